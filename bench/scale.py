"""Scale benchmark: what a request costs at 10, 1,000 and 10,000 episodes, as a ratio to its cost at 10.

For each database (SQLite, and PostgreSQL on 127.0.0.1:5432 when it answers)
it builds one show of 10, one of 1,000 and one of 10,000 episodes, each in
a database of its own (written straight into the database, as
tests/catalogue.py does), then 100 shows of 10 and 100 shows of 100
episodes. All sizes are built before any is measured, and every route of
every size is asked in turns, --requests times over after a warm-up,
through the apps in this process: a machine that slows down during the run
slows every size alike. The median time and the number of queries per
request are printed, each as a ratio to the 10-episode figure of the same
run, and the time also as a ratio to the 1,000-episode figure, where list
pages are full (at 10 episodes a page shows fewer rows; the API list is
also asked 10 a page, so that its rows are the same at every size). Goal:
every time ratio at most 1.5 at 10,000 episodes, queries constant.

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
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import flask_migrate
from fixtures.app import RequestClient, dispose_app, sign_in
from fixtures.catalogue import add_episodes
from fixtures.services import postgres_schema
from sqlalchemy import event

from podcast_service import create_app
from podcast_service.accounts import service as accounts
from podcast_service.catalogue.inputs import EpisodeInput, ShowInput
from podcast_service.catalogue.service import save_episode, save_show
from podcast_service.core import urls
from podcast_service.core.extensions import db
from podcast_service.models import utcnow

AUDIO = ROOT / "tests" / "fixtures" / "audio" / "cbr.mp3"
# From this size on every list's first page is full (50 or 100 rows), so later sizes are compared to it too:
# at 10 episodes a page simply shows fewer rows.
FULL_PAGES = 1000
SECRET = "bench-only-9c2e7a1f5d3b8046e2c9a7f1d5b3e8a0"


def new_show(slug: str):
    return save_show(
        ShowInput(
            slug=slug,
            title=slug.title(),
            description="A show.",
            author="Bench",
            owner_name="Bench",
            owner_email="bench@example.org",
            categories=["Technology"],
        )
    )


def routes(app, show, episode) -> dict[str, tuple[str, dict]]:
    return {
        "home": ("/", {}),
        "show page": (f"/shows/{show.slug}/", {}),
        "episode page": (f"/shows/{show.slug}/{episode.slug}/", {}),
        "embed player": (f"/shows/{show.slug}/{episode.slug}/embed", {}),
        "oembed": (f"/oembed?url={urls.episode_url(episode)}", {}),
        # A search that matches one episode at every size, and one that matches every episode of the show.
        "search, 1 match": (f"/shows/{show.slug}/search?q=real+one", {}),
        "search, all match": (f"/shows/{show.slug}/search?q=bulk", {}),
        "sitemap": ("/sitemap.xml", {}),
        "media (64 KiB range)": (
            urls.audio_url(episode).removeprefix(app.config["PODCAST"].base_url),
            {"Range": "bytes=0-65535"},
        ),
        "feed (cached)": (f"/shows/{show.slug}/feed.xml", {"Accept-Encoding": "gzip"}),
        "opml": ("/opml.xml", {}),
        "api episodes, page 1": (f"/api/v1/shows/{show.slug}/episodes", "token"),
        # The same list at a page size ten episodes fill: the catalogue's effect alone, rows held equal.
        "api episodes, 10 a page": (f"/api/v1/shows/{show.slug}/episodes?per_page=10", "token"),
        "admin show page": (f"/admin/shows/{show.slug}/", "session"),
    }


@dataclass
class Catalogue:
    """One size's app, its own database, its clients and the routes to ask."""

    size: int
    app: Any
    clients: dict
    table: dict


def build(config: dict, size: int, shows: int) -> Catalogue:
    """An app whose `shows` shows hold `size` episodes each (one of them real, with its audio)."""
    app = create_app(config)
    with app.app_context():
        flask_migrate.upgrade()
        admin = accounts.create_user("bench@example.org", "a bench password", admin=True)
        _token, secret = accounts.create_token(admin, "bench", ["read", "write"])
        all_shows = [new_show(f"show-{n}") for n in range(shows)]
        episode = save_episode(all_shows[0], EpisodeInput(title="The real one", published_at=utcnow()), AUDIO)
        for n, each in enumerate(all_shows):
            add_episodes(each, size - 1, 10_000_000 * n + 1)
        # The database as it settles after a load this size: on PostgreSQL the planner's statistics and the
        # visibility map as autovacuum leaves them, and on both the load's pages written out, so that no
        # background write of the load lands in the measurements.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            if db.engine.dialect.name == "postgresql":
                connection.exec_driver_sql("VACUUM ANALYZE")
                connection.exec_driver_sql("CHECKPOINT")
            else:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        app.test_client_class = RequestClient
        anonymous, session = app.test_client(), app.test_client()
        assert sign_in(session, "bench@example.org", "a bench password").status_code == 302
        clients = {
            "anonymous": anonymous,
            "session": session,
            "token": {"Authorization": f"Bearer {secret}"},
            "engine": db.engine,
        }
        table = routes(app, all_shows[0], episode)
        db.session.remove()
    return Catalogue(size, app, clients, table)


def measure(catalogues: list[Catalogue], requests: int) -> dict[int, dict[str, tuple[float, int]]]:
    """Each size's routes: median time and the most queries a request ran.

    Every size is built before any is measured, and they are asked in turns
    (one request to each route of each size, --requests times over): a pause
    of the machine, a batch written by the analytics thread, or a machine
    slower at the end of the run than at its start then lands on every size
    and route alike, not on whichever was being timed.
    """

    def ask(catalogue: Catalogue, name: str) -> tuple[float, int]:
        path, headers = catalogue.table[name]
        clients = catalogue.clients
        client = clients["session"] if headers == "session" else clients["anonymous"]
        headers = clients["token"] if headers == "token" else ({} if headers == "session" else headers)
        statements: list[str] = []
        here = threading.get_ident()  # this request's statements, not the analytics writer thread's
        listener = lambda *args: statements.append(args[2]) if threading.get_ident() == here else None  # noqa: E731
        event.listen(clients["engine"], "before_cursor_execute", listener)
        try:
            started = time.perf_counter()
            r = client.get(path, headers=headers, buffered=True)
            elapsed = time.perf_counter() - started
        finally:
            event.remove(clients["engine"], "before_cursor_execute", listener)
        assert r.status_code in (200, 206), (name, r.status_code)
        r.close()
        return elapsed, len(statements)

    names = list(catalogues[0].table)
    for _ in range(3):
        for catalogue in catalogues:
            for name in names:
                ask(catalogue, name)
    gc.collect()
    times = {(c.size, name): [] for c in catalogues for name in names}
    queries: dict[tuple[int, str], int] = {}
    for _ in range(requests):
        for catalogue in catalogues:
            for name in names:
                elapsed, count = ask(catalogue, name)
                times[(catalogue.size, name)].append(elapsed)
                # The most any request ran: the media route's kept decision can lapse between two requests.
                queries[(catalogue.size, name)] = max(queries.get((catalogue.size, name), 0), count)
    return {
        c.size: {name: (statistics.median(times[(c.size, name)]), queries[(c.size, name)]) for name in names}
        for c in catalogues
    }


def run(label: str, config_for: Callable[[int], dict], sizes: list[int], requests: int, shows: int) -> None:
    catalogues = [build(config_for(size), size, shows) for size in sizes]
    results = measure(catalogues, requests)
    for catalogue in catalogues:
        dispose_app(catalogue.app)  # the analytics writer's last batch, before the database goes away
    print(f"\n== {label}: {shows} show(s) ==")
    first = results[sizes[0]]
    full = next((results[size] for size in sizes if size >= FULL_PAGES), None)
    for size in sizes:
        shown_full = full is not None and size >= FULL_PAGES
        print(f"-- {size} episodes per show" + (f" (pages full from {FULL_PAGES})" if shown_full else ""))
        for name, (seconds, queries) in results[size].items():
            base_seconds, base_queries = first[name]
            # A route answered from memory (the media route's kept decisions) runs no query at all.
            query_ratio = f"x{queries / base_queries:4.2f}" if base_queries else ("   =" if not queries else " new")
            line = (
                f"  {name:23} {seconds * 1000:8.2f} ms  x{seconds / base_seconds:5.2f} of 10   "
                f"{queries:3d} queries  {query_ratio}"
            )
            if shown_full:
                line += f"   time x{seconds / full[name][0]:5.2f} of {FULL_PAGES}"
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:

        def config(name: str, database_url: str) -> dict:
            return {
                "secret_key": SECRET,
                "log_level": "WARNING",
                "storage_path": f"{tmp}/{name}-media",
                "base_url": "http://bench.example.org",
                "database_url": database_url,
            }

        databases = [("SQLite", lambda name: config(name, f"sqlite:///{tmp}/{name}.db"))]
        if not args.skip_postgres:
            databases.append(("PostgreSQL", lambda name: config(name, stack.enter_context(postgres_schema()))))
        for label, config_for in databases:
            run(label, lambda size, make=config_for: make(f"one-{size}"), sizes, args.requests, shows=1)
            run(label, lambda size, make=config_for: make(f"many-{size}"), [10, 100], args.requests, shows=100)


if __name__ == "__main__":
    main()
