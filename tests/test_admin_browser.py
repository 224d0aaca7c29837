"""A producer in a real browser: sign in, create a show, upload with a progress bar, edit, publish."""

from __future__ import annotations

import re
import threading
import urllib.request

import pytest
from fixtures.app import DEMO_EPISODES, PASSWORD, dispose_app, migrate
from fixtures.services import free_ports
from werkzeug.serving import make_server

from podcast_service import create_app
from podcast_service.accounts import service as accounts
from podcast_service.core.extensions import db

DEMO_MP3 = DEMO_EPISODES / "2021-shaping-belgiums-digital-future" / "audio.mp3"


@pytest.fixture
def big_mp3(tmp_path):
    """About 20 MB: the demo's ID3 tag, then its audio frames thirty times, so the upload takes many progress events."""
    data = DEMO_MP3.read_bytes()
    tag_end = 10 + int.from_bytes(bytes(b & 0x7F for b in data[6:10]), "big")
    path = tmp_path / "interview.mp3"
    path.write_bytes(data[:tag_end] + data[tag_end:] * 30)
    return path


@pytest.fixture
def live_app(app_config):
    [port] = free_ports(1)
    base = f"http://127.0.0.1:{port}"
    app = create_app({**app_config, "base_url": base})
    with app.app_context():
        migrate(app)
        accounts.create_user("producer@example.org", PASSWORD)
        db.session.remove()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join()
    server.server_close()
    dispose_app(app)


# Reports every change of a <progress> bar's value to Python, across page loads.
RECORD_PROGRESS = """
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("progress").forEach((bar) => {
    new MutationObserver(() => window.recordProgress(bar.value, bar.max))
      .observe(bar, {attributes: true, attributeFilter: ["value"]});
  });
});
"""


def test_producer_uploads_edits_and_publishes(live_app, page, big_mp3):
    base = live_app
    progress: list[tuple[float, float]] = []
    page.expose_function("recordProgress", lambda value, maximum: progress.append((value, maximum)))
    page.add_init_script(RECORD_PROGRESS)
    page.set_default_timeout(60_000)

    page.goto(base + "/admin/")
    assert "/admin/login" in page.url
    page.fill("#email", "producer@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click("text=New show")

    page.fill("#title", "Cyber Security Coalition podcast")
    page.fill("#description", "Conversations from the Coalition's activity reports.")
    page.fill("#author", "Cyber Security Coalition")
    page.fill("#owner_name", "Cyber Security Coalition")
    page.fill("#owner_email", "podcast@example.org")
    page.fill("#categories", "Technology\nNews > Tech News")
    page.set_input_files("#image", str(DEMO_EPISODES / "cover.jpg"))
    page.click("text=Create show")
    page.wait_for_url(re.compile(r"/admin/shows/cyber-security-coalition-podcast/$"))

    page.click("text=Upload an episode")
    # A producer's uplink, not loopback speed: 8 MB/s, so the 20 MB take a few seconds to send.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 8 * 1024 * 1024},
    )
    page.set_input_files("#audio", str(big_mp3))
    page.wait_for_url(re.compile(r"/admin/shows/cyber-security-coalition-podcast/episodes/\d+/$"))

    size = big_mp3.stat().st_size
    sent = [value for value, maximum in progress if maximum >= size]
    assert len(set(sent)) >= 3, progress  # the bar moved through several values...
    assert sent == sorted(sent) and sent[-1] == pytest.approx(size, rel=0.01)  # ...forward, to the end

    # The form is filled from the file's own tags.
    assert page.input_value("#title") == "Shaping Belgium's digital future"
    assert "Prime Minister" in page.input_value("#description")
    assert len(page.input_value("#chapters").strip().splitlines()) == 3
    assert page.text_content("#status") == "draft"

    page.fill("#title", "Shaping Belgium's digital future, with Alexander De Croo")
    page.fill("#people", "Alexander De Croo | guest | Prime Minister of Belgium")
    page.fill("#links", "2021 activity report | https://annualreport.cybersecuritycoalition.be/en | report")
    page.select_option("#status-select", "published")
    page.click("text=Save")
    page.wait_for_selector("#status:text('published')")

    page.goto(base + "/shows/cyber-security-coalition-podcast/")
    page.click("text=Shaping Belgium's digital future, with Alexander De Croo")
    assert page.is_visible("text=Prime Minister of Belgium")
    assert page.is_visible("text=2021 activity report")
    with urllib.request.urlopen(base + "/shows/cyber-security-coalition-podcast/feed.xml", timeout=10) as r:
        feed = r.read().decode()
    assert (
        "Shaping Belgium&apos;s digital future, with Alexander De Croo" in feed
        or "Shaping Belgium's digital future, with Alexander De Croo" in feed
    )
    assert f'length="{size}"' in feed
