"""Import benchmark: a 10,000-item feed through import-feed, its memory and its pace.

A local HTTP server plays the old host: one feed of --items items (newest
first, each with a kilobyte of HTML notes, an itunes:image-free item as most
hosts write them) whose enclosures are all small MP3s (48 KB, the tests'
cbr.mp3, at a URL of their own each). `flask import-feed` runs in this
process on SQLite and the local media folder, jobs queued (no worker), and
prints:

- peak memory growth of the process during the import (VmHWM after, less
  VmRSS before; goal under 200 MiB), beside the growth of feedparser parsing
  the same feed whole in a fresh process (what the import did before it
  spooled items to disk);
- items per second, beside --baseline items saved straight through
  save_episode from a local file in the same run (what storing an episode
  costs without a feed, a download or a spool): the ratio is the import's
  own overhead.

    .venv/bin/python bench/import.py [--items 10000] [--baseline 500]
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import flask_migrate
from sqlalchemy import func, select

from podcast_service import create_app
from podcast_service.catalogue.inputs import EpisodeInput
from podcast_service.catalogue.service import save_episode
from podcast_service.core.extensions import db
from podcast_service.models import Episode, Show, utcnow

AUDIO = ROOT / "tests" / "fixtures" / "audio" / "cbr.mp3"
SECRET = "bench-only-9c2e7a1f5d3b8046e2c9a7f1d5b3e8a0"
NOTES = "<p>" + "Show notes that go on for a while, with <a href='https://example.org/'>a link</a>. " * 12 + "</p>"
CHANNEL = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>A Long-Running Show</title><link>https://old.example.org/</link><language>en</language>
<description>Weekly since forever.</description><itunes:author>Old Host</itunes:author>
<itunes:owner><itunes:name>Owner</itunes:name><itunes:email>owner@old.example.org</itunes:email></itunes:owner>
<itunes:category text="Technology"/>
"""
ITEM = """<item><title>Episode {n}</title><guid isPermaLink="false">long-show-{n}</guid>
<pubDate>{date}</pubDate><description>What episode {n} is about.</description>
<content:encoded><![CDATA[{notes}]]></content:encoded><itunes:episode>{n}</itunes:episode>
<enclosure url="{base}/audio/{n}.mp3" type="audio/mpeg" length="{size}"/></item>
"""


class OldHost(SimpleHTTPRequestHandler):
    """/feed.xml from the folder; /audio/N.mp3 is the same small MP3 for every N."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/audio/"):
            self.path = "/episode.mp3"
        super().do_GET()


def write_feed(folder: Path, base: str, items: int) -> Path:
    size = AUDIO.stat().st_size
    path = folder / "feed.xml"
    with path.open("w", encoding="utf-8") as out:
        out.write(CHANNEL)
        for n in range(items, 0, -1):
            day = time.gmtime(946_710_000 + n * 86_400 * 3)
            out.write(
                ITEM.format(
                    n=n, base=base, size=size, notes=NOTES, date=time.strftime("%a, %d %b %Y %H:%M:%S +0000", day)
                )
            )
        out.write("</channel></rss>\n")
    (folder / "episode.mp3").write_bytes(AUDIO.read_bytes())
    return path


def memory_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def feedparser_growth(feed: Path) -> float:
    """MiB feedparser's whole-feed parse adds to a fresh process."""
    script = (
        "import sys, feedparser\n"
        "def kib(f):\n"
        "    return int(next(l for l in open('/proc/self/status') if l.startswith(f + ':')).split()[1])\n"
        "before = kib('VmRSS'); data = open(sys.argv[1], 'rb').read(); parsed = feedparser.parse(data)\n"
        "print((kib('VmHWM') - before) / 1024, len(parsed.entries))"
    )
    out = subprocess.run([sys.executable, "-c", script, str(feed)], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=500)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="podcast-import-") as tmp:
        work = Path(tmp)
        host = work / "old-host"
        host.mkdir()
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(OldHost, directory=str(host)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        feed = write_feed(host, base, args.items)
        app = create_app(
            {
                "database_url": f"sqlite:///{work / 'podcast.db'}",
                "storage_path": str(work / "media"),
                "upload_temp_path": str(work / "spools"),
                "base_url": "http://127.0.0.1:5000",
                "secret_key": SECRET,
                "log_level": "WARNING",
                "import_allow_private_networks": True,
            }
        )
        with app.app_context():
            flask_migrate.upgrade()
            runner = app.test_cli_runner()
            rss_before = memory_kib("VmRSS")
            started = time.perf_counter()
            result = runner.invoke(args=["import-feed", f"{base}/feed.xml", "--slug", "long-running"])
            seconds = time.perf_counter() - started
            growth = (memory_kib("VmHWM") - rss_before) / 1024
            if result.exit_code != 0:
                raise SystemExit(result.output[-3000:])
            imported = db.session.scalar(select(func.count()).select_from(Episode))
            show = db.session.scalar(select(Show))
            started = time.perf_counter()
            for n in range(args.baseline):
                save_episode(
                    show,
                    EpisodeInput(title=f"Direct {n}", slug=f"direct-{n}", notes=NOTES, published_at=utcnow()),
                    AUDIO,
                )
            direct = args.baseline / (time.perf_counter() - started)
        server.shutdown()
        figures = {
            "items": args.items,
            "imported": imported,
            "feed_mb": round(feed.stat().st_size / 1e6, 1),
            "peak_memory_growth_mib": round(growth, 1),
            "goal_mib": 200,
            "feedparser_whole_feed_growth_mib": round(feedparser_growth(feed), 1),
            "import_items_per_s": round(imported / seconds, 1),
            "save_episode_items_per_s": round(direct, 1),
            "ratio": round(imported / seconds / direct, 3),
            "summary": result.output.strip().splitlines()[-1],
        }
    print(json.dumps(figures, indent=2))
    print(
        f"import-feed of {args.items} items ({figures['feed_mb']} MB of feed): peak memory growth "
        f"{figures['peak_memory_growth_mib']} MiB (goal < 200; feedparser on the whole feed alone: "
        f"{figures['feedparser_whole_feed_growth_mib']} MiB); {figures['import_items_per_s']} items/s against "
        f"{figures['save_episode_items_per_s']} episodes/s saved directly: ratio {figures['ratio']}"
    )


if __name__ == "__main__":
    main()
