"""Scale benchmark: what a request costs at 10, 1,000 and 10,000 episodes, as a ratio to its cost at 10.

For each database (SQLite, and PostgreSQL on 127.0.0.1:5432 when it answers)
it builds one show of 10 episodes, measures every route, grows the show to
1,000 and 10,000 episodes (written straight into the database, as
tests/catalogue.py does) and measures again; then a second run with 100 shows
of 100 episodes each. Each route is asked --requests times after a warm-up,
through the app in this process, the routes taking turns; the median time
and the number of queries per request are printed, each as a ratio to the
10-episode figure of the same run, and the time also as a ratio to the
1,000-episode figure, where list pages are full (at 10 episodes a page
shows fewer rows; the API list is also asked 10 a page, so that its rows
are the same at every size). Goal: every time ratio at most 1.5 at 10,000
episodes, queries constant.

    .venv/bin/python bench/scale.py [--requests 20] [--sizes 10,1000,10000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import flask_migrate  # noqa: E402
from sqlalchemy import event  # noqa: E402

from catalogue import add_episodes  # noqa: E402
from podcast_service import accounts, create_app, urls  # noqa: E402
from podcast_service.episodes import save_episode, save_show  # noqa: E402
from podcast_service.extensions import db  # noqa: E402
from podcast_service.inputs import EpisodeInput, ShowInput  # noqa: E402
from podcast_service.models import utcnow  # noqa: E402
from conftest import RequestClient, _dispose, sign_in  # noqa: E402
from services import postgres_schema  # noqa: E402

AUDIO = ROOT / "tests" / "fixtures" / "audio" / "cbr.mp3"
# From this size on every list's first page is full (50 or 100 rows), so later sizes are compared to it too:
# at 10 episodes a page simply shows fewer rows.
FULL_PAGES = 1000
SECRET = "bench-only-9c2e7a1f5d3b8046e2c9a7f1d5b3e8a0"


def new_show(slug: str):  # noqa: ANN201
    return save_show(ShowInput(slug=slug, title=slug.title(), description="A show.", author="Bench",
                               owner_name="Bench", owner_email="bench@example.org", categories=["Technology"]))


def routes(app, show, episode) -> dict[str, tuple[str, dict]]:  # noqa: ANN001
    return {
        "home": ("/", {}), "show page": (f"/shows/{show.slug}/", {}),
        "episode page": (f"/shows/{show.slug}/{episode.slug}/", {}),
        "embed player": (f"/shows/{show.slug}/{episode.slug}/embed", {}),
        "oembed": (f"/oembed?url={urls.episode_url(episode)}", {}),
        # A search that matches one episode at every size, and one that matches every episode of the show.
        "search, 1 match": (f"/shows/{show.slug}/search?q=real+one", {}),
        "search, all match": (f"/shows/{show.slug}/search?q=bulk", {}),
        "sitemap": ("/sitemap.xml", {}),
        "media (64 KiB range)": (urls.audio_url(episode).removeprefix(app.config["PODCAST"].base_url),
                                 {"Range": "bytes=0-65535"}),
        "feed (cached)": (f"/shows/{show.slug}/feed.xml", {"Accept-Encoding": "gzip"}),
        "opml": ("/opml.xml", {}),
        "api episodes, page 1": (f"/api/v1/shows/{show.slug}/episodes", "token"),
        # The same list at a page size ten episodes fill: the catalogue's effect alone, rows held equal.
        "api episodes, 10 a page": (f"/api/v1/shows/{show.slug}/episodes?per_page=10", "token"),
        "admin show page": (f"/admin/shows/{show.slug}/", "session"),
    }


def measure(app, clients: dict, table: dict, requests: int) -> dict[str, tuple[float, int]]:  # noqa: ANN001
    """Each route's median time and its queries per request.

    The routes are asked in turns (one request to each, --requests times
    over), not one route's requests in a row: a pause of the machine or a
    batch written by the analytics thread then lands on every route alike
    instead of on whichever route was being timed.
    """
    def ask(name: str) -> tuple[float, int]:
        path, headers = table[name]
        client = clients["session"] if headers == "session" else clients["anonymous"]
        headers = clients["token"] if headers == "token" else ({} if headers == "session" else headers)
        statements: list[str] = []
        here = threading.get_ident()  # this request's statements, not the analytics writer thread's
        listener = lambda *args: statements.append(args[2]) if threading.get_ident() == here else None  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            started = time.perf_counter()
            r = client.get(path, headers=headers, buffered=True)
            elapsed = time.perf_counter() - started
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert r.status_code in (200, 206), (name, r.status_code)
        r.close()
        return elapsed, len(statements)

    for _ in range(3):
        for name in table:
            ask(name)
    gc.collect()
    times: dict[str, list[float]] = {name: [] for name in table}
    queries: dict[str, int] = {}
    for _ in range(requests):
        for name in table:
            elapsed, count = ask(name)
            times[name].append(elapsed)
            queries.setdefault(name, count)
    return {name: (statistics.median(times[name]), queries[name]) for name in table}


def run(label: str, config: dict, sizes: list[int], requests: int, shows: int) -> None:
    app = create_app(config)
    with app.app_context():
        flask_migrate.upgrade()
        admin = accounts.create_user("bench@example.org", "a bench password", admin=True)
        _token, secret = accounts.create_token(admin, "bench", ["read", "write"])
        all_shows = [new_show(f"show-{n}") for n in range(shows)]
        show = all_shows[0]
        episode = save_episode(show, EpisodeInput(title="The real one", published_at=utcnow()), AUDIO)
        app.test_client_class = RequestClient
        anonymous = app.test_client()
        session = app.test_client()
        assert sign_in(session, "bench@example.org", "a bench password").status_code == 302
        clients = {"anonymous": anonymous, "session": session, "token": {"Authorization": f"Bearer {secret}"}}
        table = routes(app, show, episode)
        have, first, full = 1, None, None
        print(f"\n== {label}: {shows} show(s) ==")
        for size in sizes:
            for n, each in enumerate(all_shows):
                add_episodes(each, size - have, 10_000_000 * n + have)
            have = size
            if db.engine.dialect.name == "postgresql":
                # The planner's statistics, as autovacuum keeps them after a load this size.
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("ANALYZE")
            results = measure(app, clients, table, requests)
            first = first or results
            if full is None and size >= FULL_PAGES:
                full = results
            print(f"-- {size} episodes per show" + ("" if full is None else f" (pages full from {FULL_PAGES})"))
            for name, (seconds, queries) in results.items():
                base_seconds, base_queries = first[name]
                # A route answered from memory (the media route's kept decisions) runs no query at all.
                query_ratio = f"x{queries / base_queries:4.2f}" if base_queries else ("   =" if not queries else " new")
                line = (f"  {name:22} {seconds * 1000:8.2f} ms  x{seconds / base_seconds:5.2f} of 10   "
                        f"{queries:3d} queries  {query_ratio}")
                if full is not None:
                    line += f"   time x{seconds / full[name][0]:5.2f} of {FULL_PAGES}"
                print(line)
    _dispose(app)  # the analytics writer's last batch, before the database goes away


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        base = {"secret_key": SECRET, "log_level": "WARNING", "storage_path": f"{tmp}/media",
                "base_url": "http://bench.example.org"}
        databases = [("SQLite", lambda name: f"sqlite:///{tmp}/{name}.db")]
        if not args.skip_postgres:
            databases.append(("PostgreSQL", lambda name: stack.enter_context(postgres_schema())))
        for label, url in databases:
            run(label, {**base, "database_url": url("one")}, sizes, args.requests, shows=1)
            run(label, {**base, "database_url": url("many")}, [10, 100], args.requests, shows=100)


if __name__ == "__main__":
    main()
