"""import-feed: a podcast moves here from another host with its guids and dates; re-runs fetch only what is new."""

from __future__ import annotations

import functools
import threading
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import AUDIO
from podcast_service.extensions import db
from podcast_service.models import Episode, Show

ITEM = """<item><title>{title}</title><guid isPermaLink="false">{guid}</guid>
<pubDate>{date}</pubDate><description>About {title}.</description>
<itunes:episode>{n}</itunes:episode><itunes:explicit>{explicit}</itunes:explicit>
<enclosure url="{base}/{file}" type="audio/mpeg" length="1"/></item>"""

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
<title>Old Host Show</title><link>https://old.example.org/</link><language>nl</language>
<description>A show moving house.</description><itunes:author>Old Author</itunes:author>
<itunes:owner><itunes:name>Owner</itunes:name><itunes:email>owner@old.example.org</itunes:email></itunes:owner>
<itunes:category text="News"><itunes:category text="Tech News"/></itunes:category>
<itunes:category text="Nonsense Category"/>
{items}</channel></rss>"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: ANN002
        pass


@pytest.fixture
def old_host(tmp_path):
    """An HTTP server standing in for the old host: the feed file and the audio fixtures."""
    root = tmp_path / "old-host"
    root.mkdir()
    for name in ("cbr.mp3", "vbr_xing.mp3", "aac.m4a"):
        (root / name).write_bytes((AUDIO / name).read_bytes())
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"

    def publish(items: list[tuple[str, str, str, str]]) -> str:
        xml = FEED.format(items="".join(
            ITEM.format(title=t, guid=g, date=d, file=f, base=base, n=i + 1, explicit="true" if i == 0 else "false")
            for i, (t, g, d, f) in enumerate(items)))
        (root / "feed.xml").write_text(xml)
        return f"{base}/feed.xml"

    yield publish
    server.shutdown()
    thread.join()
    server.server_close()


FIRST = [("First", "old-guid-1", "Tue, 01 Mar 2022 09:00:00 +0000", "cbr.mp3"),
         ("Second", "https://old.example.org/?p=2", "Fri, 01 Apr 2022 09:00:00 +0000", "vbr_xing.mp3")]


def test_import_keeps_guids_and_dates_and_rerun_fetches_only_new(runner, old_host, client):
    url = old_host(FIRST)
    result = runner.invoke(args=["import-feed", url, "--slug", "moved"])
    assert result.exit_code == 0, result.output
    assert "2 imported, 0 present, 0 failed" in result.output
    show = db.session.query(Show).one()
    assert (show.slug, show.title, show.language, show.owner_email) == ("moved", "Old Host Show", "nl",
                                                                        "owner@old.example.org")
    assert show.categories == [["News", "Tech News"]]
    episodes = {e.guid: e for e in db.session.query(Episode)}
    assert set(episodes) == {"old-guid-1", "https://old.example.org/?p=2"}
    first = episodes["old-guid-1"]
    assert first.published_at == datetime(2022, 3, 1, 9, tzinfo=UTC)
    assert first.explicit is True and episodes["https://old.example.org/?p=2"].explicit is False
    assert first.number == 1 and first.audio.sha256  # stored here, not linked to the old host
    assert b"old-guid-1" in client.get("/shows/moved/feed.xml").data

    result = runner.invoke(args=["import-feed", url, "--slug", "moved"])
    assert "0 imported, 2 present, 0 failed" in result.output
    url = old_host(FIRST + [("Third", "old-guid-3", "Sun, 01 May 2022 09:00:00 +0000", "aac.m4a")])
    result = runner.invoke(args=["import-feed", url, "--slug", "moved"])
    assert "1 imported, 2 present, 0 failed" in result.output
    assert db.session.query(Episode).count() == 3


def test_an_episode_that_cannot_be_fetched_is_reported_and_others_still_come(runner, old_host):
    url = old_host(FIRST + [("Gone", "gone", "Sun, 01 May 2022 09:00:00 +0000", "missing.mp3")])
    result = runner.invoke(args=["import-feed", url])
    assert result.exit_code == 1
    assert "2 imported, 0 present, 1 failed" in result.output
    assert "cannot fetch" in result.output and "Traceback" not in result.output
    assert db.session.query(Episode).filter(Episode.guid == "gone").count() == 0


def test_not_a_feed_is_a_clear_error(runner, tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><body>hello</body></html>")
    result = runner.invoke(args=["import-feed", str(page)])
    assert result.exit_code == 1 and "not an RSS feed" in result.output
