"""A real browser (Debian's chromium, driven by Playwright) plays the demo episode and seeks by chapter."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from fixtures.app import PASSWORD, wait_for
from fixtures.browser import EPISODE, PRODUCER, until

# Chromium drops media range requests it no longer needs (after a seek); Werkzeug's development server,
# which stands in for gunicorn here, can leave such a request's file to the garbage collector when the
# test ends while it is still sending. That warning is about the test server's threads, not the service,
# and the collector can raise it in any later test of the file, not only in the one that played audio.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def test_player_loads_and_a_chapter_click_seeks(live_demo, page):
    base, duration = live_demo
    statuses = []
    # The enclosure, and with S3 the store's URL it redirects to: both paths end in .mp3.
    page.on("response", lambda r: statuses.append(r.status) if urlsplit(r.url).path.endswith(".mp3") else None)
    page.goto(base + EPISODE)
    page.wait_for_load_state("networkidle")
    assert page.title() == "Shaping Belgium's digital future · Cyber Security Coalition Podcast"
    assert statuses == []  # no audio asked for before the listener plays; the page says how long it is
    minutes, seconds = divmod(round(duration), 60)
    assert page.inner_text(".controls .left") == f"-{minutes}:{seconds:02d} left"

    page.get_by_role("link", name="We are reaching more and more Belgians").click()
    until(page, "document.getElementById('player').readyState >= 1")  # pressing play loads the audio
    until(page, "document.getElementById('player').currentTime >= 43")
    assert page.evaluate("document.getElementById('player').duration") == pytest.approx(duration, abs=0.5)
    assert page.evaluate("document.getElementById('player').currentTime") < 50
    assert 206 in statuses  # the browser streamed with byte ranges
    report = page.get_by_role("link", name="2021 activity report of the Cyber Security Coalition").first
    assert report.get_attribute("href").startswith("https://annualreport.cybersecuritycoalition.be/")


@pytest.fixture
def other_origin(tmp_path):
    """A page on another origin (another port), as the Coalition's report site would be."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_the_embed_plays_inside_an_iframe_on_another_site(live_demo, page, other_origin):
    base, _duration = live_demo
    folder, origin = other_origin
    code = page.context.request.get(f"{base}/oembed?url={base}{EPISODE}").json()["html"]
    (folder / "report.html").write_text(f"<!doctype html><title>Report</title><h1>2021 report</h1>{code}")
    audio = []
    page.on("request", lambda r: audio.append(r.url) if urlsplit(r.url).path.endswith(".mp3") else None)
    page.goto(f"{origin}/report.html")
    frame = page.frame_locator("iframe").first
    frame.locator("#player").wait_for()
    page.wait_for_load_state("networkidle")
    assert audio == []  # the report's readers who do not press play download nothing
    embedded = next(f for f in page.frames if f.url.endswith("/embed"))
    embedded.evaluate("document.getElementById('player').play()")
    until(embedded, "document.getElementById('player').currentTime > 1")
    frame.get_by_role("link", name="We are reaching more and more Belgians").click()
    until(embedded, "document.getElementById('player').currentTime >= 43")


def test_a_shared_link_with_a_time_opens_the_episode_playing_from_there(live_demo, page):
    base, _duration = live_demo
    page.goto(f"{base}{EPISODE}#t=90")
    until(page, "document.getElementById('player').currentTime >= 90")
    assert page.evaluate("document.getElementById('player').currentTime") < 100


def test_the_player_follows_chapters_and_transcript_and_answers_the_keyboard(live_demo, page):
    base, _duration = live_demo
    page.goto(base + EPISODE)
    player = "document.getElementById('player')"

    chapter = page.get_by_role("link", name="We are reaching more and more Belgians")
    chapter.click()
    until(page, f"{player}.currentTime >= 43")
    until(
        page,
        "(document.querySelector('.chapters [aria-current]') || {}).textContent"
        ".includes('We are reaching more and more Belgians')",
        5,
    )
    cue = page.locator(".cues [aria-current]")
    cue.wait_for()
    start = float(cue.get_attribute("data-start"))
    assert start <= page.evaluate(f"{player}.currentTime")

    # A click on a cue seeks there; the highlight moves with it.
    page.locator(".cues p").nth(1).click()
    until(page, f"{player}.currentTime >= 5.5 && {player}.currentTime < 12", 5)
    until(page, "document.querySelector('.cues [aria-current]')?.dataset.start === '5.571'", 5)

    # Space pauses and plays again; the skip buttons and the speed choice work.
    page.locator("h1").click()  # the focus on the page, not on a control
    page.keyboard.press(" ")
    until(page, f"{player}.paused", 5)
    page.keyboard.press(" ")
    until(page, f"!{player}.paused", 5)
    before = page.evaluate(f"{player}.currentTime")
    page.get_by_role("button", name="Forward 30 seconds").click()
    assert page.evaluate(f"{player}.currentTime") >= before + 29
    page.get_by_label("Playback speed").select_option("1.5")
    assert page.evaluate(f"{player}.playbackRate") == 1.5
    assert page.inner_text(".controls .left").endswith(" left")

    # The waveform drawn from the stored peaks: a click seeks there, and the part played is coloured up to it.
    wave = page.locator("svg.waveform")
    box = wave.bounding_box()
    wave.click(position={"x": box["width"] * 0.75, "y": box["height"] / 2})
    until(page, f"Math.abs({player}.currentTime - {player}.duration * 0.75) < 3", 5)
    until(page, "parseFloat(document.querySelector('svg.waveform stop').getAttribute('offset')) > 0.7", 5)

    # The transcript can be searched on the page.
    page.get_by_label("Search the transcript").fill("prime minister")
    visible = page.locator(".cues p:visible")
    assert visible.count() >= 1 and all("prime minister" in t.lower() for t in visible.all_inner_texts())


DESKTOP_CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"


def test_opening_the_page_or_the_embed_is_no_download_and_pressing_play_is_one(live_demo, page, other_origin):
    """IAB guidelines, pre-loads: a page or an embed opened without playing asks for no audio at all, so
    nothing can be counted; pressing play counts one download."""
    base, _duration = live_demo
    folder, origin = other_origin
    # A desktop browser's user agent: headless chromium's own is filtered as a robot's.
    page.set_extra_http_headers({"User-Agent": DESKTOP_CHROME})
    audio = []
    page.on("request", lambda r: audio.append(r.url) if urlsplit(r.url).path.endswith(".mp3") else None)
    code = page.context.request.get(f"{base}/oembed?url={base}{EPISODE}").json()["html"]
    (folder / "report.html").write_text(f"<!doctype html><title>Report</title>{code}")
    for url in (base + EPISODE, f"{origin}/report.html"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    assert audio == []

    page.goto(base + EPISODE)
    page.evaluate("document.getElementById('player').play()")  # the play button of the native controls
    until(page, "document.getElementById('player').currentTime > 1")
    assert audio
    page.goto(base + "/admin/login")
    page.get_by_label("E-mail address").fill(PRODUCER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    def total() -> bool:  # the rows reach the database within a second (the writer's batch)
        page.goto(base + "/admin/shows/cyber-security-coalition/analytics?days=7")
        return page.inner_text("strong.total") == "1"

    wait_for(total, what="the dashboard showing one download")
