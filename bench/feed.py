"""Feed benchmark: a show with 10,000 episodes, its feed built and served, each against a baseline.

1. Uncached build: the service's path from the database to the feed's bytes
   (query, load, URLs, feedgen with its extensions), against a bare feedgen
   build of the same data: the same records already in plain Python objects,
   given straight to feedgen and the same extension classes. The fastest of
   --rounds for each, after a full garbage collection. Goal: ratio <= 1.3.
2. Cached requests per second through the service (one small query, bytes
   from memory), against the same bytes served as a static file by the same
   server process (Flask's send_file), both under gunicorn with one sync
   worker, loaded by a client process: what Python adds. (bench/media.py
   compares the production setup, nginx in front, with nginx serving the
   same bytes.)
3. The time of a conditional request answered 304, and the feed's size.

    .venv/bin/python bench/feed.py [--episodes 10000] [--rounds 3] [--requests 200]
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

BASE_URL = "https://podcasts.example.org"
NOTES = (
    "In this episode we talk about **Belgium's cyber security strategy**, the [activity report]"
    "(https://annualreport.cybersecuritycoalition.be/) and what it asks of companies.\n\n- one\n- two\n"
) * 3


def config(workdir: Path) -> dict:
    return {
        "database_url": f"sqlite:///{workdir / 'bench.db'}",
        "storage_path": str(workdir / "media"),
        "base_url": BASE_URL,
        "secret_key": "bench-only-9c2e7a1f5d3b8046e2c9a7f1d5b3e8a0",
        "log_level": "WARNING",
    }


def populate(app, episodes: int) -> None:
    """The show and its episodes, inserted in bulk (the service's save path is measured elsewhere)."""
    import flask_migrate
    from sqlalchemy import insert

    from podcast_service.catalogue.inputs import PersonInput, ShowInput
    from podcast_service.catalogue.service import save_show
    from podcast_service.core.extensions import db
    from podcast_service.core.markup import render_markdown
    from podcast_service.models import AlternateFile, Chapter, Credit, Episode, MediaFile, TranscriptCues, utcnow

    with app.app_context():
        flask_migrate.upgrade()
        show = save_show(
            ShowInput(
                slug="big",
                title="A big show",
                description="Ten thousand episodes.",
                author="Bench",
                owner_name="Bench",
                owner_email="bench@example.org",
                categories=["Technology", "News > Tech News"],
                season_names={"1": "2021"},
                location_name="Brussels",
                funding=[["https://example.org/give", "Give"]],
                people=[PersonInput(name="Hannah Host", role="host")],
            )
        )
        now, html = utcnow(), str(render_markdown(NOTES))
        cues = [[i * 3.0, i * 3.0 + 2.5, f"Sentence number {i} of the transcript."] for i in range(200)]
        media, rows = [], []
        for n in range(episodes):
            media.append(
                {
                    "id": 2 * n + 100,
                    "public_id": f"{n:032x}",
                    "backend": "local",
                    "key": f"audio/{n}.mp3",
                    "size": 30_000_000 + n,
                    "mime_type": "audio/mpeg",
                    "extension": ".mp3",
                    "sha256": "0" * 64,
                    "duration": 1800.0 + n,
                    "bitrate": 128000,
                    "created_at": now,
                }
            )
            media.append(
                {
                    "id": 2 * n + 101,
                    "public_id": f"t{n:031x}",
                    "backend": "local",
                    "key": f"transcripts/{n}.vtt",
                    "size": 20_000,
                    "mime_type": "text/vtt",
                    "extension": ".vtt",
                    "sha256": "0" * 64,
                    "created_at": now,
                }
            )
            rows.append(
                {
                    "id": n + 1,
                    "show_id": show.id,
                    "slug": f"episode-{n}",
                    "guid": f"guid-{n}",
                    "title": f"Episode {n}: on cyber security",
                    "summary": "A conversation. " * 10,
                    "notes": NOTES,
                    "notes_html": html,
                    "published_at": now - timedelta(hours=n + 1),
                    "season": 1,
                    "number": n + 1,
                    "episode_type": "full",
                    "explicit": False,
                    "audio_id": 2 * n + 100,
                    "transcript_id": 2 * n + 101,
                    "soundbites": [[60.0, 30.0, "The point"]],
                    "preview_key": f"k{n:042d}",
                    "created_at": now,
                    "updated_at": now,
                    "withdrawn_at": None,
                }
            )
        # Ids after the audio and transcript rows' (100 to 2 x episodes + 99).
        alternates = [
            {
                "id": 2 * episodes + 100 + n,
                "public_id": f"o{n:031x}",
                "backend": "local",
                "key": f"audio/{n}.opus",
                "size": 9_000_000,
                "mime_type": "audio/opus",
                "extension": ".opus",
                "sha256": "0" * 64,
                "duration": 1800.0 + n,
                "bitrate": 48000,
                "created_at": now,
            }
            for n in range(0, episodes, 4)
        ]
        db.session.execute(insert(MediaFile), media + alternates)
        db.session.execute(insert(Episode), rows)
        db.session.execute(insert(TranscriptCues), [{"episode_id": n + 1, "cues": cues} for n in range(episodes)])
        db.session.execute(
            insert(AlternateFile),
            [
                {"episode_id": n + 1, "media_id": 2 * episodes + 100 + n, "title": "OPUS", "position": 0}
                for n in range(0, episodes, 4)
            ],
        )
        db.session.execute(
            insert(Chapter),
            [
                {"episode_id": n + 1, "start": s, "end": None, "title": f"Part {s}"}
                for n in range(episodes)
                for s in (0.0, 600.0, 1200.0)
            ],
        )
        people = (("Hannah Host", None, "host"), ("Guest Person", "https://example.org/guest", "guest"))
        db.session.execute(
            insert(Credit),
            [
                {"episode_id": n + 1, "name": name, "href": href, "role": r, "group": "cast", "position": i}
                for n in range(episodes)
                for i, (name, href, r) in enumerate(people)
            ],
        )
        db.session.commit()


def bare_records(show, episodes, urls):
    """The same data as plain Python values with every URL made, for the baseline."""
    from types import SimpleNamespace as Rec

    records = []
    for e in episodes:
        main = e.apple_file
        records.append(
            Rec(
                guid=e.guid,
                title=e.title,
                link=urls.page(e),
                summary=e.summary,
                html=e.notes_html,
                enclosure=(urls.media(main, e.slug), str(main.size), main.mime_type),
                published=e.published_at,
                duration=round(e.duration),
                episode=e.number,
                season=e.season,
                type=e.episode_type,
                transcripts=[
                    (urls.transcript(e, f), m)
                    for f, m in (
                        ("vtt", "text/vtt"),
                        ("srt", "application/x-subrip"),
                        ("json", "application/json"),
                        ("html", "text/html"),
                    )
                ],
                chapters=urls.chapters(e),
                soundbites=[tuple(s) for s in e.soundbites],
                people=e.people,
                season_name=show.season_names.get(str(e.season)),
                alternates=[
                    (urls.media(f, e.slug), f.size, f.mime_type, f.bitrate, f.extension[1:].upper(), f is main)
                    for f in e.files
                ],
            )
        )
    channel = Rec(
        title=show.title,
        feed=urls.feed,
        site=show.website_url or urls.show_page,
        description=show.description,
        language=show.language,
        people=[Rec(name=c.name, role=c.role, group=c.group, img=c.img, href=c.href) for c in show.credits],
        image=urls.media(show.image, show.slug),
        categories=show.categories,
        guid=show.podcast_guid,
    )
    return channel, records


def bare_feedgen(channel, records) -> bytes:
    """A hand-written feedgen build of the records, with the same extension classes and the same tags."""
    from feedgen.feed import FeedGenerator

    from podcast_service.feed.itunes import ItunesEntryExtension, ItunesExtension
    from podcast_service.feed.podcast_ns import Person, PodcastEntryExtension, PodcastExtension, Source, Transcript

    fg = FeedGenerator()
    fg.register_extension("itunes", ItunesExtension, ItunesEntryExtension)
    fg.register_extension("podcast", PodcastExtension, PodcastEntryExtension)
    fg.title(channel.title)
    fg.link(href=channel.feed, rel="self")
    fg.link(href=channel.site, rel="alternate")
    fg.description(channel.description)
    fg.language(channel.language)
    fg.itunes.categories = channel.categories
    fg.podcast.guid = channel.guid
    fg.podcast.people = [Person(p.name, p.role, p.group, p.img, p.href) for p in channel.people]
    for r in records:
        fe = fg.add_entry(order="append")
        fe.guid(r.guid, permalink=False)
        fe.title(r.title)
        fe.link(href=r.link)
        fe.description(r.summary)
        fe.content(r.html, type="CDATA")
        fe.enclosure(*r.enclosure)
        fe.pubDate(r.published)
        ie = fe.itunes
        ie.title, ie.summary, ie.duration, ie.explicit = r.title, r.summary, r.duration, False
        ie.episode, ie.season, ie.episode_type = r.episode, r.season, r.type
        pe = fe.podcast
        pe.transcripts = [Transcript(url, mime, "en") for url, mime in r.transcripts]
        pe.chapters_url = r.chapters
        pe.soundbites = r.soundbites
        pe.people = r.people
        pe.season, pe.episode = (r.season, r.season_name), r.episode
        pe.alternates = [Source(*a) for a in r.alternates]
    return fg.rss_str(pretty=True)


def measure_builds(app, rounds: int) -> dict:
    from podcast_service.core.extensions import db
    from podcast_service.core.urls import FeedUrls
    from podcast_service.feed import cache
    from podcast_service.feed.data import feed_episodes
    from podcast_service.models import Show, utcnow

    with app.app_context():
        show = db.session.scalar(db.select(Show))
        now = utcnow()
        urls = FeedUrls(show)
        channel, records = bare_records(show, feed_episodes(show, now), urls)
        service, bare = [], []
        for _ in range(rounds):  # alternate, so both meet the same machine state; each after a full collection
            db.session.expire_all()
            gc.collect()
            start = time.perf_counter()
            body = cache.render(show, now)
            service.append(time.perf_counter() - start)
            db.session.rollback()
            gc.collect()
            start = time.perf_counter()
            baseline = bare_feedgen(channel, records)
            bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        cache.state(db.session.get(Show, show.id))  # the full rebuild: render, gzip, store
        stored = time.perf_counter() - start
        row = db.session.get(cache.CachedFeed, show.id)
        # The fastest round of each, as timeit reports: the others only add the machine's noise.
        return {
            "service_s": min(service),
            "bare_s": min(bare),
            "rebuild_s": stored,
            "service_median_s": statistics.median(service),
            "bare_median_s": statistics.median(bare),
            "size": len(body),
            "bare_size": len(baseline),
            "gzip_size": len(row.gzipped),
            "path": None,
        }


def serve(workdir: Path, port: int) -> None:
    """The child process: the app under gunicorn (one sync worker) with a static copy of the feed beside it."""
    from flask import send_file
    from gunicorn.app.base import BaseApplication

    from podcast_service import create_app

    app = create_app(config(workdir))
    static = workdir / "feed.xml"
    app.add_url_rule("/static-feed.xml", "static_feed", lambda: send_file(static, mimetype="application/rss+xml"))

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"127.0.0.1:{port}")
            self.cfg.set("workers", 1)
            self.cfg.set("loglevel", "warning")

        def load(self):
            return app

    Server().run()


def hammer(port: int, path: str, requests: int, threads: int = 4, **headers: str) -> tuple[float, int, float]:
    """(requests per second, status of the last, median seconds per request) from this client process."""

    def one(_: int) -> tuple[int, float]:
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status, time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - start
    return requests / elapsed, results[-1][0], statistics.median(t for _, t in results)


def wait_for(port: int) -> None:
    for _ in range(300):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--serve", nargs=2, metavar=("WORKDIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]))
        return

    from podcast_service import create_app

    with tempfile.TemporaryDirectory(dir=ROOT / "instance" if (ROOT / "instance").is_dir() else None) as tmp:
        workdir = Path(tmp)
        app = create_app(config(workdir))
        started = time.perf_counter()
        populate(app, args.episodes)
        print(f"{args.episodes} episodes inserted in {time.perf_counter() - started:.1f} s")
        builds = measure_builds(app, args.rounds)
        with app.app_context():
            from podcast_service.core.extensions import db
            from podcast_service.models import CachedFeed, web_etag

            row = db.session.scalars(db.select(CachedFeed)).one()
            (workdir / "feed.xml").write_bytes(row.body)
            etag = web_etag(row.last_modified, row.size)  # the plain body's, as the service sends it
            db.engine.dispose()

        from services import free_ports

        [port] = free_ports(1)
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(workdir), str(port)])
        try:
            wait_for(port)
            hammer(port, "/shows/big/feed.xml", 8)  # warm: this process's copy of the bytes
            rounds = []
            for _ in range(args.rounds):
                service = hammer(port, "/shows/big/feed.xml", args.requests)
                static = hammer(port, "/static-feed.xml", args.requests)
                assert service[1] == 200 and static[1] == 200
                rounds.append((service[0], static[0]))
            not_modified = hammer(port, "/shows/big/feed.xml", args.requests, **{"If-None-Match": f'"{etag}"'})
            small_static = hammer(port, "/healthz", args.requests)
            assert not_modified[1] == 304
        finally:
            server.terminate()
            server.wait(timeout=30)

    service_rps = statistics.median(r[0] for r in rounds)
    static_rps = statistics.median(r[1] for r in rounds)
    result = {
        "episodes": args.episodes,
        "feed_bytes": builds["size"],
        "feed_gzip_bytes": builds["gzip_size"],
        "bare_feed_bytes": builds["bare_size"],
        "uncached_build_s": round(builds["service_s"], 3),
        "bare_feedgen_build_s": round(builds["bare_s"], 3),
        "uncached_build_median_s": round(builds["service_median_s"], 3),
        "bare_feedgen_build_median_s": round(builds["bare_median_s"], 3),
        "build_ratio_service_over_bare": round(builds["service_s"] / builds["bare_s"], 3),
        "full_rebuild_with_gzip_and_store_s": round(builds["rebuild_s"], 3),
        "cached_feed_req_per_s": round(service_rps, 1),
        "static_file_req_per_s": round(static_rps, 1),
        "cached_over_static_ratio": round(service_rps / static_rps, 3),
        "not_modified_median_ms": round(not_modified[2] * 1000, 2),
        "not_modified_req_per_s": round(not_modified[0], 1),
        "healthz_req_per_s": round(small_static[0], 1),
    }
    print(json.dumps(result, indent=2))
    print(f"uncached build / bare feedgen: {result['build_ratio_service_over_bare']} (goal <= 1.3)")
    print(f"cached feed / static file: {result['cached_over_static_ratio']} (goal >= 0.8)")
    print(
        f"304: {result['not_modified_median_ms']} ms; feed {builds['size'] / 1e6:.1f} MB, "
        f"{builds['gzip_size'] / 1e6:.1f} MB gzipped"
    )


if __name__ == "__main__":
    main()
