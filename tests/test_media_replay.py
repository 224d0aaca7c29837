"""Enclosures handed to nginx are answered from memory after the first request (delivery/replay.py, recent.py):
no database, no Flask, yet every request is recorded, and nothing the kept answer may not fit is given it."""

from __future__ import annotations

import http.client
import urllib.parse
import uuid

import pytest
from fixtures.app import DEMO_EPISODES, PASSWORD, RequestClient, dispose_app, migrate, sign_in, wait_for
from fixtures.counting import counting
from fixtures.services import Gunicorn, app_environment

from podcast_service import create_app
from podcast_service.accounts import service as accounts
from podcast_service.analytics import recorder
from podcast_service.core import urls
from podcast_service.core.extensions import db
from podcast_service.delivery.recent import recent_media
from podcast_service.models import Episode, MediaRequest, utcnow

pytestmark = pytest.mark.servers

APP = {"User-Agent": "AntennaPod/3.4.0"}


def accel_config(app_config: dict, tmp_path, **extra) -> dict:
    """The stack's database with the local folder behind nginx (replay needs headers-only answers)."""
    return {
        **app_config,
        "storage_backend": "local",
        "storage_path": str(tmp_path / "media"),
        "accel_redirect": "/_media",
        **extra,
    }


def demo_app(config: dict):
    app = create_app(config)
    app.test_client_class = RequestClient
    with app.app_context():
        migrate(app)
        assert app.test_cli_runner().invoke(args=["import-episodes", str(DEMO_EPISODES)]).exit_code == 0
    return app


@pytest.fixture
def accel(app_config, tmp_path):
    """(app, client, the enclosure's path) with the app context the request hooks expect."""
    app = demo_app(accel_config(app_config, tmp_path))
    with app.app_context():
        path = urllib.parse.urlsplit(urls.audio_url(db.session.query(Episode).one())).path
        db.session.remove()
        yield app, app.test_client(), path
        db.session.remove()
        dispose_app(app)


def change_episode(app, **values) -> Episode:
    with app.app_context():
        episode = db.session.query(Episode).one()
        for name, value in values.items():
            setattr(episode, name, value)
        db.session.commit()
        key = episode.preview_key
        db.session.remove()
    return key


def recorded(app) -> list[tuple]:
    recorder.recorder(app).flush()
    with app.app_context():
        rows = (
            db.session.query(MediaRequest.method, MediaRequest.range_start, MediaRequest.range_end)
            .order_by(MediaRequest.id)
            .all()
        )
        db.session.remove()
    return [tuple(r) for r in rows]


def test_the_second_request_is_answered_without_the_database_and_both_are_recorded(accel):
    app, client, path = accel
    first = client.get(path, headers={**APP, "Range": "bytes=0-99"})
    with counting() as statements:
        second = client.get(path, headers={**APP, "Range": "bytes=100-199"})
        head = client.head(path, headers=APP)
    assert statements == []
    assert first.status_code == second.status_code == head.status_code == 200
    assert first.headers["X-Accel-Redirect"].startswith("/_media/")
    assert dict(second.headers) == dict(first.headers) == dict(head.headers)
    assert second.headers["Cache-Control"] == "public, max-age=604800, immutable"
    assert second.headers["X-Content-Type-Options"] == "nosniff" and "Vary" not in second.headers
    rows = recorded(app)
    assert rows == [("GET", 0, 99), ("GET", 100, 199)]  # the HEAD, which never adds to a download, is not kept


def test_a_withdrawn_episode_is_gone_at_the_next_request(accel):
    app, client, path = accel
    assert client.get(path, headers=APP).status_code == 200
    assert client.get(path, headers=APP).status_code == 200
    change_episode(app, withdrawn_at=utcnow())
    assert client.get(path, headers=APP).status_code == 404
    change_episode(app, withdrawn_at=None)
    assert client.get(path, headers=APP).status_code == 200


def test_a_preview_key_never_opens_the_file_to_anyone_without_it(accel):
    app, client, path = accel
    assert client.get(path, headers=APP).status_code == 200
    key = change_episode(app, published_at=None)
    for _ in range(2):
        preview = client.get(f"{path}?preview={key}", headers=APP)
        assert preview.status_code == 200 and "no-store" in preview.headers["Cache-Control"]
        assert client.get(path, headers=APP).status_code == 404
    assert [r[0] for r in recorded(app)] == ["GET"]  # the public request before; previews are not counted


def test_conditions_go_to_the_route_and_a_producers_session_cookie_is_never_kept(accel):
    app, client, path = accel
    with app.app_context():
        accounts.create_user("producer@example.org", PASSWORD, admin=True)
    # A signed-in producer listens first: their answer may refresh their session cookie, and must not be kept
    # for the listeners who come next.
    assert sign_in(client, "producer@example.org").status_code == 302
    mine = client.get(path, headers=APP)
    assert mine.status_code == 200
    anonymous = app.test_client()
    for _ in range(2):
        theirs = anonymous.get(path, headers=APP)
        assert theirs.status_code == 200 and "Set-Cookie" not in theirs.headers
    etag = theirs.headers["ETag"]
    assert anonymous.get(path, headers={**APP, "If-None-Match": etag}).status_code == 304
    assert anonymous.get(path, headers={**APP, "If-None-Match": '"other"'}).status_code == 200
    assert anonymous.post(path, headers=APP).status_code == 405


def test_made_up_addresses_are_asked_of_the_database_and_kept_nowhere(accel):
    app, client, path = accel
    real = client.get(path, headers=APP)
    name = path.rsplit("/", 1)[1]
    for _ in range(50):
        assert client.get(f"/media/{uuid.uuid4().hex}/{name}", headers=APP).status_code == 404
    assert client.get(path.replace(".mp3", ".ogg"), headers=APP).status_code == 404
    recent = recent_media(app)
    assert len(recent.decisions) == 1 and list(recent.answers) == [path]
    assert client.get(path, headers=APP).headers == real.headers


def test_with_media_lookup_seconds_0_every_request_asks_the_database(app_config, tmp_path):
    app = demo_app(accel_config(app_config, tmp_path, media_lookup_seconds=0))
    with app.app_context():
        path = urllib.parse.urlsplit(urls.audio_url(db.session.query(Episode).one())).path
        client = app.test_client()
        client.get(path, headers=APP)
        with counting() as statements:
            assert client.get(path, headers=APP).status_code == 200
        assert statements
        db.session.remove()
        dispose_app(app)


def test_another_process_forgets_a_withdrawn_file_within_media_lookup_seconds(app_config, tmp_path):
    """gunicorn's workers keep their own copies: a withdrawal made elsewhere reaches them when those expire."""
    config = accel_config(app_config, tmp_path, media_lookup_seconds=1)
    app = demo_app(config)
    with app.app_context():
        path = urllib.parse.urlsplit(urls.audio_url(db.session.query(Episode).one())).path
        db.session.remove()
    server = Gunicorn(app_environment(config), tmp_path, workers=2)
    server.start()

    def status() -> int:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
        try:
            connection.request("GET", path, headers=APP)
            return connection.getresponse().status
        finally:
            connection.close()

    try:
        assert [status() for _ in range(6)] == [200] * 6
        change_episode(app, withdrawn_at=utcnow())
        wait_for(
            lambda: all(status() == 404 for _ in range(6)), timeout=20, what="404 from every worker", logs=[server]
        )
    finally:
        server.stop()
        with app.app_context():
            db.session.remove()
            dispose_app(app)
