"""Media benchmark: bytes through the service behind nginx against nginx serving the same files.

Starts the production setup (docs/production.md) (nginx with deploy/nginx.conf in front
of gunicorn with gunicorn.conf.py, `accel_redirect = "/_media"`, nginx's
media log going to the service in `analytics_log_file`) on SQLite and
the local media folder with the demo show, plus, in the same nginx, plain
static locations for the same media file and the feed's bytes: the baseline.
The media file is a 40 MB MP3, the size of a real episode (the demo's is
1 MB). Then wrk (Debian's package: apt-get install wrk) loads each pair
with --connections connections, in turns of two seconds for --seconds
each (so a slow spell of the machine falls on both sides alike):

1. 100 KB ranges at random offsets of the episode's audio: service (nginx
   sends them alone from the link the service left for these ten seconds,
   and reports those that may add to a download to the service) vs static;
2. the first 100 KB, again and again: every request reported and kept, the
   most counting can cost; also how many of the requests made were recorded;
3. full downloads of the audio: service vs static;
4. the public feed, plain and gzipped: nginx alone from the files the
   service left for these ten seconds vs the same bytes as static files;
5. download recording: 100 KB ranges through nginx with analytics on (every
   request reported) vs a second gunicorn with `analytics = false`;
6. the media route's answer in gunicorn alone (X-Accel-Redirect headers and
   no body, what a request nginx cannot answer alone costs) vs a Flask
   hello-world app (bench/hello_app.py) under the same gunicorn settings.

Prints requests per second for each and the ratio. Goals: media at least
0.9 of static, the feed at least 0.8, recording on at least 0.9 of off (it
costs under 10 %), the decision at least 0.7 of hello-world.

    .venv/bin/python bench/media.py [--seconds 10] [--connections 32] [--only feed]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures.services import Gunicorn, Nginx, app_environment
from sqlalchemy import select

from podcast_service.catalogue.inputs import EpisodeInput
from podcast_service.catalogue.service import save_episode
from podcast_service.core.extensions import db
from podcast_service.models import Show, utcnow

FEED = "/shows/cyber-security-coalition/feed.xml"
RANGES = """
math.randomseed(os.time())
request = function()
  local start = math.random(0, {size} - 102400)
  return wrk.format("GET", "{path}", {{["Range"] = "bytes=" .. start .. "-" .. (start + 102399)}})
end
"""


def prepare(workdir: Path) -> dict:
    import flask_migrate

    from podcast_service import create_app

    config = {
        "database_url": f"sqlite:///{workdir / 'podcast.db'}",
        "storage_path": str(workdir / "media"),
        "upload_temp_path": str(workdir / "spools"),
        "base_url": "http://127.0.0.1:8000",
        "secret_key": "bench-only-9c2e7a1f5d3b8046e2c9a7f1d5b3e8a0",
        "log_level": "WARNING",
        "trusted_proxies": 1,
        "accel_redirect": "/_media",
        "analytics_log_file": str(workdir / "media.log"),
    }
    app = create_app(config)
    with app.app_context():
        flask_migrate.upgrade()
        result = app.test_cli_runner().invoke(args=["import-episodes", str(ROOT / "episodes")])
        assert result.exit_code == 0, result.output
        # An MP3 the size of a real episode (served as uploaded; a WAV master would be encoded first): the
        # demo's ID3 tag, then its audio frames forty times over.
        demo = (ROOT / "episodes" / "2021-shaping-belgiums-digital-future" / "audio.mp3").read_bytes()
        tag_end = 10 + int.from_bytes(bytes(b & 0x7F for b in demo[6:10]), "big")
        long_mp3 = workdir / "long.mp3"
        long_mp3.write_bytes(demo[:tag_end] + demo[tag_end:] * 40)
        show = db.session.scalar(select(Show))
        episode = save_episode(
            show, EpisodeInput(title="A long episode", slug="long-master", published_at=utcnow()), long_mp3
        )
        config["_key"] = episode.audio.key
    return config


def wrk(
    url: str, seconds: int, connections: int, *, script: str | None = None, headers: dict[str, str] | None = None
) -> tuple[float, int]:
    """Requests per second wrk measured, and how many it made; any non-2xx/3xx answer stops the benchmark."""
    args = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            args += ["-s", lua.name]
        out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise SystemExit(f"errors while loading {url}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rate, int(re.search(r"(\d+) requests in", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", default="", help="run only the cases whose name contains this (e.g. feed)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench/media.py needs wrk: apt-get install wrk")

    with tempfile.TemporaryDirectory(prefix="podcast-media-") as tmp:
        workdir = Path(tmp)
        config = prepare(workdir)
        key = config.pop("_key")
        media = Path(config["storage_path"])
        feeds = workdir / "static-feeds"
        static = (
            f"    location /static-media/ {{ alias {media}/; sendfile on; tcp_nopush off; }}\n"
            f"    location /static-feeds/ {{ alias {feeds}/; gzip_static on; gzip_vary on; "
            "types { application/rss+xml xml; } }"
        )
        workers = (os.cpu_count() or 1) * 2 + 1
        server = Gunicorn(app_environment(config), workdir, workers=workers, threads=16)
        server.start()
        proxy = Nginx(
            f"127.0.0.1:{server.port}",
            workdir / "nginx",
            media=media,
            extra=static,
            media_log=config["analytics_log_file"],
        )
        proxy.start()
        (workdir / "off").mkdir()
        alone = {**config, "analytics_log_file": ""}  # the servers below read no log
        unrecorded = Gunicorn(
            app_environment({**alone, "analytics": False}), workdir / "off", workers=workers, threads=16
        )
        unrecorded.start()
        unrecorded_proxy = Nginx(f"127.0.0.1:{unrecorded.port}", workdir / "nginx-off", media=media)
        unrecorded_proxy.start()
        (workdir / "hello").mkdir()
        hello = Gunicorn(
            {**app_environment(alone), "PYTHONPATH": str(ROOT / "bench")},
            workdir / "hello",
            workers=workers,
            threads=16,
            app="hello_app:app",
        )
        hello.start()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
            conn.request("GET", "/shows/cyber-security-coalition/long-master/")
            page = conn.getresponse().read().decode()
            audio = page.split("<audio", 1)[1].split('src="', 1)[1].split('"', 1)[0].split("8000", 1)[1]
            feeds.mkdir()
            for encoding, name in (("identity", "feed.xml"), ("gzip", "feed.xml.gz")):
                conn.request("GET", FEED, headers={"Accept-Encoding": encoding})
                (feeds / name).write_bytes(conn.getresponse().read())
            conn.close()
            size = (media / key).stat().st_size
            base = proxy.url
            figures = {}

            rounds = max(1, args.seconds // 2)

            def compare(name: str, service: dict, baseline: dict, what: str, goal: float) -> None:
                """Both loaded in turn, two seconds each, `rounds` times: drift in the machine's speed (the
                other core busy for a while) falls on both alike instead of on whichever ran second."""
                served, based, made = [], [], 0
                watched = name.startswith("media first-minute")  # did counting keep up? (rows come within 3 s)
                if watched:
                    time.sleep(3)  # the case before's last lines are counted first
                recorded = counted_requests() if watched else 0
                for _ in range(rounds):
                    rate, count = wrk(seconds=2, connections=args.connections, **service)
                    served.append(rate)
                    made += count
                    based.append(wrk(seconds=2, connections=args.connections, **baseline)[0])
                service_rate, baseline_rate = sum(served) / rounds, sum(based) / rounds
                figures[name] = {
                    "service_req_per_s": round(service_rate, 1),
                    "baseline_req_per_s": round(baseline_rate, 1),
                    "ratio": round(service_rate / baseline_rate, 3),
                    "baseline": what,
                    "goal": goal,
                }
                if watched:
                    time.sleep(3)
                    figures[name]["recorded"] = f"{counted_requests() - recorded} of {made} requests"

            def counted_requests() -> int:
                with sqlite3.connect(workdir / "podcast.db") as database:
                    return database.execute("SELECT count(*) FROM media_requests").fetchone()[0]

            ranges = RANGES.format(size=size, path=audio)
            static_ranges = RANGES.format(size=size, path=f"/static-media/{key}")
            plain, gzipped = {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip"}
            first_minute = {"Range": "bytes=0-102399"}  # every such request is kept for counting
            cases = {
                "media 100 KB ranges": (
                    {"url": base + audio, "script": ranges},
                    {"url": base + f"/static-media/{key}", "script": static_ranges},
                    "nginx static",
                    0.9,
                ),
                "media first-minute ranges": (
                    {"url": base + audio, "headers": first_minute},
                    {"url": base + f"/static-media/{key}", "headers": first_minute},
                    "nginx static",
                    0.9,
                ),
                "media full downloads": (
                    {"url": base + audio},
                    {"url": base + f"/static-media/{key}"},
                    "nginx static",
                    0.9,
                ),
                "feed plain": (
                    {"url": base + FEED, "headers": plain},
                    {"url": base + "/static-feeds/feed.xml", "headers": plain},
                    "nginx static",
                    0.8,
                ),
                "feed gzipped": (
                    {"url": base + FEED, "headers": gzipped},
                    {"url": base + "/static-feeds/feed.xml", "headers": gzipped},
                    "nginx static",
                    0.8,
                ),
                "recording on vs off": (
                    {"url": base + audio, "script": ranges},
                    {"url": unrecorded_proxy.url + audio, "script": ranges},
                    "analytics off",
                    0.9,
                ),
                "media decision": (
                    {"url": server.url + audio, "headers": {"Range": "bytes=0-102399"}},
                    {"url": hello.url + "/"},
                    "Flask hello-world",
                    0.7,
                ),
            }
            for name, case in cases.items():
                if args.only in name:
                    compare(name, *case)
        finally:
            for process in (proxy, server, unrecorded_proxy, unrecorded, hello):
                process.stop()
    print(json.dumps(figures, indent=2))
    for name, f in figures.items():
        print(
            f"{name:22} service {f['service_req_per_s']:9.1f} req/s  {f['baseline']} "
            f"{f['baseline_req_per_s']:9.1f} req/s  ratio {f['ratio']:.3f} (goal >= {f['goal']})"
            + (f"  recorded {f['recorded']}" if "recorded" in f else "")
        )


if __name__ == "__main__":
    main()
