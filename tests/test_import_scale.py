"""import-feed on long feeds: items held on disk rather than in memory, a killed run picked up where it
stopped, and a progress bar on a real terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.app import wait_for
from fixtures.old_host import FEED, ITEM
from fixtures.services import app_environment
from sqlalchemy import func
from sqlalchemy import select as sql_select

from podcast_service.core.extensions import db
from podcast_service.models import Episode

pytestmark = pytest.mark.workers

NOTES = "<p>" + "Show notes that go on for a while. " * 30 + "</p>"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "import_allow_private_networks": True}


def long_feed(count: int, audio: str) -> str:
    """`count` items, newest first as hosts write them, each with a kilobyte of notes."""
    items = "".join(
        ITEM.format(
            title=f"Episode {n}",
            guid=f"guid-{n}",
            n=n,
            explicit="false",
            file=audio,
            date=f"Mon, {1 + n % 28:02d} Jan {2000 + n // 28} 09:00:00 +0000",
        ).replace("</item>", f"<content:encoded><![CDATA[{NOTES}]]></content:encoded></item>")
        for n in range(count, 0, -1)
    )
    return FEED.format(items=items).replace("<rss ", '<rss xmlns:content="http://purl.org/rss/1.0/modules/content/" ')


# Run in a process of its own: tracemalloc counts every thread's allocations, and a thread an earlier
# test left in this worker once added 7.5 MB to both peaks.
MEASURE_MEMORY = """
import json, sys, tracemalloc
import feedparser
from podcast_service import create_app
from podcast_service.imports import feed as feed_import

def titles(path):
    with feed_import.open_feed(path) as feed:
        return [item.entry["title"] for item in feed.items]

def peak(read):
    tracemalloc.start()
    start, _ = tracemalloc.get_traced_memory()
    try:
        result = read()
        return result, tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()

path = sys.argv[1]
data = open(path, "rb").read()
with create_app().app_context():
    read, ours = peak(lambda: titles(path))
whole, baseline = peak(lambda: len(feedparser.parse(data).entries))
print(json.dumps({"titles": read, "ours": ours, "entries": whole, "baseline": baseline}))
"""


def test_a_long_feed_is_read_in_a_fraction_of_the_memory_of_parsing_it_whole(app, app_config, tmp_path):
    path = tmp_path / "long.xml"
    path.write_text(long_feed(1000, "cbr.mp3"))  # tracemalloc slows feedparser a great deal: no more is needed
    measured = json.loads(
        subprocess.run(
            [sys.executable, "-c", MEASURE_MEMORY, str(path)],
            check=True,
            env=app_environment(app_config),
            capture_output=True,
            text=True,
        ).stdout
    )
    assert measured["entries"] == 1000
    assert measured["titles"] == [f"Episode {n}" for n in range(1, 1001)]  # oldest first
    assert measured["ours"] < measured["baseline"] / 5, measured
    assert list(Path(app.config["PODCAST"].upload_temp_path).glob("import-*")) == []  # spool removed


def cli(app_config: dict, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "podcast_service", *args], env=app_environment(app_config), **popen
    )


def episodes() -> int:
    db.session.remove()
    return db.session.scalar(sql_select(func.count()).select_from(Episode))


def test_a_killed_import_is_picked_up_where_it_stopped(app, app_config, runner, old_host):
    (old_host.root / "feed.xml").write_text(long_feed(8, "slow/cbr.mp3"))  # each download takes a while
    run = cli(
        app_config,
        "import-feed",
        old_host.base + "/feed.xml",
        "--slug",
        "moved",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: episodes() >= 3, timeout=60, what="three episodes imported")
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    before = episodes()
    assert 3 <= before < 8
    result = runner.invoke(args=["import-feed", old_host.base + "/feed.xml", "--slug", "moved"])
    assert result.exit_code == 0, result.output
    assert f"{8 - before} imported, {before} present, 0 failed" in result.output
    guids = db.session.scalars(sql_select(Episode.guid)).all()
    assert sorted(guids) == sorted(f"guid-{n}" for n in range(1, 9))
    # The killed run's download spool is gone (the re-run removed it); an object it had stored but not
    # yet recorded is what storage-check --fix exists for.
    assert list(Path(app.config["PODCAST"].upload_temp_path).glob("import-*")) == []
    runner.invoke(args=["storage-check", "--fix", "--grace-minutes", "0"])
    assert runner.invoke(args=["storage-check", "--grace-minutes", "0"]).exit_code == 0


def test_on_a_terminal_a_progress_bar_counts_items_and_megabytes(app, app_config, old_host):
    # The newest item's enclosure is missing at the old host.
    (old_host.root / "feed.xml").write_text(long_feed(4, "cbr.mp3").replace('"cbr.mp3"', '"missing.mp3"', 1))
    leader, follower = pty.openpty()
    run = cli(
        app_config,
        "import-feed",
        old_host.base + "/feed.xml",
        "--slug",
        "moved",
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        elif run.poll() is not None:
            break
    run.wait(timeout=30)
    os.close(leader)
    text = output.decode(errors="replace")
    assert run.returncode == 1  # one enclosure is missing
    assert "importing" in text and "4/4" in text and " MB" in text
    assert "\r" in text  # the bar is redrawn in place
    # The failure is listed after the bar, then the summary.
    failure = text.index("failed  Episode 4")
    assert failure > text.rindex("4/4") and "missing.mp3" in text[failure:]
    assert "3 imported, 0 present, 1 failed;" in text and "items/s" in text
