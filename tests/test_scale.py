"""Requests cost the same whatever the catalogue's size: queries per request at 10 and at 200 episodes."""

from __future__ import annotations

import json

import pytest
from fixtures.app import sign_in
from fixtures.catalogue import add_episodes
from fixtures.counting import counting
from sqlalchemy import insert, text, update
from sqlalchemy import select as sql_select

from podcast_service.core import urls
from podcast_service.core.extensions import db
from podcast_service.models import AlternateFile, Chapter, Credit, Episode, Link, MediaFile, utcnow


def queries(client, path: str, **headers: str) -> int:
    client.get(path, headers=headers, buffered=True)  # a first request may build and cache (the feed)
    with counting() as statements:
        r = client.get(path, headers=headers, buffered=True)
    assert r.status_code in (200, 206, 302), (path, r.status_code)
    return len(statements)


@pytest.fixture
def catalogue(app, client, show, make_episode, admin_user, make_token):
    """A show whose size the test grows, a real episode (whose audio is served), and who asks."""
    episode = make_episode(title="Real one")
    add_episodes(show, 9, 0)
    return episode


def every_route(app, episode, token_headers: dict[str, str]) -> dict[str, tuple[str, str, dict]]:
    """The public routes, the API's lists and the admin's pages: name -> (who asks, path, headers)."""
    public = {
        "home": "/",
        "show page": "/shows/test-show/",
        "episode page": f"/shows/test-show/{episode.slug}/",
        "media": urls.audio_url(episode).removeprefix(app.config["PODCAST"].base_url),
        "feed": "/shows/test-show/feed.xml",
        "opml": "/opml.xml",
        "embed": f"/shows/test-show/{episode.slug}/embed",
        "oembed": f"/oembed?url={urls.episode_url(episode)}",
        "search": "/shows/test-show/search?q=real+one",
        "search, every episode": "/shows/test-show/search?q=bulk",
        "sitemap": "/sitemap.xml",
    }
    return {
        **{name: ("anonymous", path, {}) for name, path in public.items()},
        "api shows": ("anonymous", "/api/v1/shows", token_headers),
        "api episodes": ("anonymous", "/api/v1/shows/test-show/episodes", token_headers),
        "admin show": ("signed", "/admin/shows/test-show/", {}),
        "admin dashboard": ("signed", "/admin/", {}),
    }


def test_queries_per_request_do_not_grow_with_the_catalogue(client, catalogue, show, admin_user, make_token, app):
    """At 10 episodes and at 210: the same number of queries for each route."""
    headers = make_token(admin_user)
    signed = app.test_client()
    assert sign_in(signed).status_code == 302
    clients = {"anonymous": client, "signed": signed}
    routes = every_route(app, catalogue, headers)

    def measure() -> dict[str, int]:
        return {name: queries(clients[who], path, **asked) for name, (who, path, asked) in routes.items()}

    small = measure()
    add_episodes(show, 200, 100)
    large = measure()
    assert large == small
    # Later pages cost what the first does.
    assert queries(client, "/shows/test-show/?page=3") == large["show page"]
    assert queries(client, "/api/v1/shows/test-show/episodes?page=3", **headers) == large["api episodes"]


def explained(statements: list[tuple[str, object]]) -> list[tuple[str, str]]:
    """Each (statement, parameters) with its plan on the database in use; on PostgreSQL as it would be
    on a large table (no sequential scan where an index serves)."""
    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        prefix = "EXPLAIN "
    else:
        prefix = "EXPLAIN QUERY PLAN "
    plans = [
        (statement, "\n".join(str(row[-1]) for row in connection.exec_driver_sql(prefix + statement, parameters)))
        for statement, parameters in statements
    ]
    db.session.rollback()
    return plans


# The tables that grow with the catalogue.
GROWING = (
    "episodes",
    "media_files",
    "chapters",
    "credits",
    "links",
    "alternate_files",
    "audio_jobs",
    "media_requests",
    "daily_downloads",
    "transcript_cues",
)


def full_reads(plan: str, tables: tuple[str, ...] | None = None) -> list[str]:
    """The steps of a plan that read a whole table (SQLite's SCAN, PostgreSQL's Seq Scan), of `tables` or
    of any."""
    return [
        line
        for line in plan.splitlines()
        if ("Seq Scan" in line or line.strip().startswith("SCAN") and "CONSTANT ROW" not in line)
        and (tables is None or any(f" {table}" in line for table in tables))
    ]


def test_no_route_reads_a_whole_table_of_the_catalogue(client, catalogue, show, admin_user, make_token, app):
    """EXPLAIN of every statement each route ran, with its own parameters, at 210 episodes: the tables that
    grow with the catalogue are only read through an index. (The show and user tables are read whole
    where a page lists every show: the home page, OPML, the sitemap.)"""
    signed = app.test_client()
    assert sign_in(signed).status_code == 302
    clients = {"anonymous": client, "signed": signed}
    add_episodes(show, 200, 100)
    db.session.commit()
    for name, (who, path, asked) in every_route(app, catalogue, make_token(admin_user)).items():
        clients[who].get(path, headers=asked, buffered=True)
        with counting(with_parameters=True) as statements:
            assert clients[who].get(path, headers=asked, buffered=True).status_code in (200, 206, 302), name
        for statement, plan in explained(statements):
            assert not full_reads(plan, GROWING), (name, statement, plan)


def test_api_lists_come_in_pages_linked_to_each_other(client, catalogue, show, admin_headers, runner):
    add_episodes(show, 120, 100)  # 130 episodes in all
    r = client.get("/api/v1/shows/test-show/episodes?per_page=50", headers=admin_headers)
    assert r.status_code == 200 and len(r.json) == 50
    assert r.headers["Link"] == '</api/v1/shows/test-show/episodes?page=2&per_page=50>; rel="next"'
    last = client.get("/api/v1/shows/test-show/episodes?page=3&per_page=50", headers=admin_headers)
    assert len(last.json) == 30 and 'rel="prev"' in last.headers["Link"] and 'rel="next"' not in last.headers["Link"]
    seen = {
        e["id"]
        for page in (1, 2, 3)
        for e in client.get(f"/api/v1/shows/test-show/episodes?page={page}&per_page=50", headers=admin_headers).json
    }
    assert len(seen) == 130
    assert client.get("/api/v1/shows/test-show/episodes?page=4&per_page=50", headers=admin_headers).status_code == 404
    for bad in ("per_page=0", "per_page=201", "per_page=x", "page=0", "page=-1"):
        assert client.get(f"/api/v1/shows/test-show/episodes?{bad}", headers=admin_headers).status_code in (404, 422)
    # The CLI pages through them too, printing one JSON array.
    listed = runner.invoke(args=["list-episodes", "test-show"])
    assert listed.exit_code == 0, listed.output
    assert len({e["id"] for e in json.loads(listed.output)}) == 130


def test_the_show_page_pages_through_every_episode(client, catalogue, show):
    add_episodes(show, 120, 100)
    titles = []
    for page in (1, 2, 3):
        text = client.get("/shows/test-show/" + (f"?page={page}" if page > 1 else "")).text
        titles += [line for line in text.splitlines() if "<h3" in line]
    assert len(titles) == 130
    assert client.get("/shows/test-show/?page=4").status_code == 404
    assert client.get("/shows/test-show/?page=abc").status_code == 404
    assert 'rel="next"' in client.get("/shows/test-show/").text


def test_every_lookup_a_media_request_makes_uses_an_index(app, catalogue, show):
    """EXPLAIN on the database in use: no lookup of the media route reads every episode or file."""
    from sqlalchemy import select

    from podcast_service.delivery.lookups import owners_of
    from podcast_service.models import Show

    add_episodes(show, 200, 100)
    episode = catalogue
    statements = [
        select(MediaFile).where(MediaFile.public_id == episode.audio.public_id),
        select(Episode)
        .join(Episode.show)
        .where(Episode.id.in_(owners_of(episode.audio_id)), Show.private.is_(False), Episode.public_at(utcnow())),
        select(Episode).where(Episode.preview_key == episode.preview_key),
        select(Show.id).where(Show.image_id == episode.audio_id),
        select(Episode).where(Episode.show_id == show.id, Episode.slug == episode.slug),
    ]
    compiled = [
        (str(statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})), None)
        for statement in statements
    ]
    for sql, plan in explained(compiled):
        assert not full_reads(plan, ("episodes", "media_files")), (sql, plan)


def test_every_statement_a_page_of_the_episode_list_runs_reads_by_index(client, catalogue, show, admin_headers):
    """A page of the API's episode list, with every kind of part, at 210 episodes: no table read whole, and
    the page read in the order of an index, not sorted (a sort of every episode of the show would grow
    with the catalogue)."""
    add_episodes(show, 200, 100)
    bulk = db.session.scalars(sql_select(Episode.id).where(Episode.slug.like("bulk-%")).order_by(Episode.id)).all()
    enrich(bulk[-3:], 0)  # the newest: on page 1
    db.session.commit()
    for page in (1, 2):
        path = f"/api/v1/shows/test-show/episodes?page={page}"
        client.get(path, headers=admin_headers)
        with counting(with_parameters=True) as statements:
            assert client.get(path, headers=admin_headers).status_code == 200
        plans = explained(statements)
        pages = [plan for statement, plan in plans if "FROM episodes" in statement and "LIMIT" in statement]
        assert len(pages) == 1 and len(plans) >= 6, plans
        assert "TEMP B-TREE" not in pages[0] and "Sort" not in pages[0], pages[0]
        assert not [(statement, plan) for statement, plan in plans if full_reads(plan)]


def enrich(episode_ids: list[int], start: int) -> None:
    """Give episodes everything an episode can list or carry: an image, a transcript, a master, alternates,
    and chapters, links and people written out of order."""
    now = utcnow()
    for n, episode_id in enumerate(episode_ids, start):
        kinds = {
            "image": (".jpg", "image/jpeg"),
            "transcript": (".vtt", "text/vtt"),
            "master": (".wav", "audio/wav"),
            "opus": (".opus", "audio/ogg"),
            "m4a": (".m4a", "audio/mp4"),
        }
        files = {
            kind: db.session.scalar(
                insert(MediaFile)
                .returning(MediaFile.id)
                .values(
                    public_id=f"rich{kind}{n:08x}",
                    backend="local",
                    key=f"rich/{kind}-{n}{ext}",
                    size=100 + n,
                    mime_type=mime,
                    extension=ext,
                    sha256="0" * 64,
                    duration=60.0,
                    bitrate=64000,
                    created_at=now,
                )
            )
            for kind, (ext, mime) in kinds.items()
        }
        db.session.execute(
            update(Episode)
            .where(Episode.id == episode_id)
            .values(image_id=files["image"], transcript_id=files["transcript"], master_id=files["master"])
        )
        db.session.execute(
            insert(AlternateFile),
            [
                {"episode_id": episode_id, "media_id": files["m4a"], "position": 1},
                {"episode_id": episode_id, "media_id": files["opus"], "position": 0},
            ],
        )
        db.session.execute(
            insert(Chapter), [{"episode_id": episode_id, "start": s, "title": f"At {s}"} for s in (600.0, 30.0, 1200.5)]
        )
        db.session.execute(
            insert(Link),
            [
                {"episode_id": episode_id, "title": f"Link {p}", "url": f"https://example.org/{p}", "position": p}
                for p in (2, 1)
            ],
        )
        db.session.execute(
            insert(Credit),
            [
                {"episode_id": episode_id, "name": f"Guest {p}", "role": "guest", "group": "cast", "position": p}
                for p in (3, 1)
            ],
        )
    db.session.commit()


def test_a_page_of_episodes_says_of_each_what_it_says_alone_in_the_same_queries(client, catalogue, show, admin_headers):
    """The list reads its page's files, jobs and lists in one query per kind (catalogue/lists.py); each
    episode's own endpoint reads them as relationships. Both say the same, and a page of richer episodes
    costs no more queries."""
    bulk = db.session.scalars(sql_select(Episode.id).where(Episode.slug.like("bulk-%")).order_by(Episode.id)).all()
    enrich(bulk[:2], 0)
    before = queries(client, "/api/v1/shows/test-show/episodes", **admin_headers)
    enrich(bulk[2:8], 2)
    assert queries(client, "/api/v1/shows/test-show/episodes", **admin_headers) == before
    listed = client.get("/api/v1/shows/test-show/episodes", headers=admin_headers).json
    assert len(listed) == 10
    for episode in listed:
        alone = client.get(f"/api/v1/shows/test-show/episodes/{episode['id']}", headers=admin_headers).json
        assert episode == alone
    rich = [e for e in listed if e["id"] in bulk[:8]]
    assert len(rich) == 8
    for episode in rich:
        assert [c["start"] for c in episode["chapters"]] == [0.0, 30.0, 600.0, 1200.5]  # add_episodes' first
        assert [link["title"] for link in episode["links"]] == ["Report", "Link 1", "Link 2"]
        assert [p["name"] for p in episode["people"]] == ["Host", "Guest 1", "Guest 3"]
        assert [a["mime_type"] for a in episode["alternates"]] == ["audio/ogg", "audio/mp4"]
        assert episode["image_url"].endswith(".jpg") and episode["transcript_url"].endswith(".vtt")
        assert episode["audio"]["master"]["mime_type"] == "audio/wav"


def test_a_show_without_episodes_lists_an_empty_page(client, show, admin_headers, runner):
    r = client.get("/api/v1/shows/test-show/episodes", headers=admin_headers)
    assert r.status_code == 200 and r.json == [] and 'rel="next"' not in r.headers.get("Link", "")
    listed = runner.invoke(args=["list-episodes", "test-show"])
    assert listed.exit_code == 0 and json.loads(listed.output) == []
