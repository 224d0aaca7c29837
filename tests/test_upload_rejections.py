"""Bad uploads get a clear 4xx and leave nothing behind: no row, no object, no spooled file."""

from __future__ import annotations

import http.client
import io
import os
import threading
import zipfile

import pytest
from fixtures.app import AUDIO, ROOT, dispose_app, migrate, multipart
from werkzeug.serving import make_server

from podcast_service.core.extensions import db
from podcast_service.models import Episode, MediaFile

GOOD = (AUDIO / "cbr.mp3").read_bytes()
COVER = (ROOT / "episodes" / "cover.jpg").read_bytes()


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("episode.mp3", GOOD)
    return out.getvalue()


BAD_AUDIO = {
    "empty": b"",
    "truncated": GOOD[: len(GOOD) // 3],
    "random bytes": os.urandom(200_000),
    "text": b"This is not audio at all.\n" * 1000,
    "image": COVER,
    "archive": _zip(),
}


@pytest.fixture
def upload_dir(app):
    return app.config["PODCAST"].upload_temp_path


def assert_nothing_left(storage, upload_dir):
    assert db.session.query(Episode).count() == 0
    assert db.session.query(MediaFile).filter(MediaFile.key.like("audio/%")).count() == 0
    assert [k for k in storage.keys() if k.startswith("audio/")] == []
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []


@pytest.mark.parametrize("kind", BAD_AUDIO)
def test_files_that_are_not_audio_are_refused(client, show, admin_headers, storage, upload_dir, kind):
    r = client.post(
        "/api/v1/shows/test-show/episodes",
        headers=admin_headers,
        **multipart(audio=(BAD_AUDIO[kind], "episode.mp3"), title="Bad"),
    )
    assert r.status_code == 422, r.data
    message = r.get_json()["error"]["message"]
    assert message and "Traceback" not in message
    assert_nothing_left(storage, upload_dir)


def test_a_hostile_file_name_never_reaches_a_path_or_a_page(client, show, admin_headers, storage, upload_dir):
    name = "../../etc/<script>alert(1)</script>\x00.mp3"
    r = client.post(
        "/api/v1/shows/test-show/episodes", headers=admin_headers, **multipart(audio=(GOOD, name), status="published")
    )
    assert r.status_code == 201, r.data
    episode = r.get_json()
    row = db.session.get(Episode, episode["id"])
    assert row.audio.key.startswith("audio/") and ".." not in row.audio.key and "<" not in row.audio.key
    assert "\x00" not in row.audio.original_filename and "/" not in row.audio.original_filename
    page = client.get(f"/shows/test-show/{episode['slug']}/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"status": "sometimes"}, "status must be one of"),
        ({"status": "scheduled", "publish_at": "tomorrow"}, "ISO 8601"),
        ({"season": "two"}, "whole number"),
        ({"type": "teaser"}, "episode type"),
        ({"explicit": "maybe"}, "true or false"),
        ({"people": "[{broken"}, "not valid JSON"),
        ({"links": "Report | not-a-url"}, "absolute http(s) URL"),
        ({"title": "x" * 300}, "longer than"),
    ],
)
def test_invalid_fields_are_refused(client, show, admin_headers, storage, upload_dir, fields, message):
    r = client.post(
        "/api/v1/shows/test-show/episodes", headers=admin_headers, **multipart(audio=(GOOD, "ok.mp3"), **fields)
    )
    assert r.status_code == 422
    assert message in r.get_json()["error"]["message"]
    assert_nothing_left(storage, upload_dir)


def test_missing_audio_is_refused(client, show, admin_headers, storage, upload_dir):
    r = client.post("/api/v1/shows/test-show/episodes", headers=admin_headers, **multipart(title="No file"))
    assert r.status_code == 422 and "audio is missing" in r.get_json()["error"]["message"]
    r = client.post("/api/v1/shows/test-show/episodes", headers=admin_headers, json={"title": "JSON"})
    assert r.status_code == 422 and "multipart" in r.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "content", [b"just words, no cues", b"WEBVTT\n\nnot a cue line\n", "\xff\xfe".encode("latin-1")]
)
def test_a_transcript_that_is_not_webvtt_or_srt_is_refused(client, make_episode, admin_headers, storage, content):
    episode = make_episode()
    before = sorted(storage.keys())
    r = client.put(
        f"/api/v1/shows/test-show/episodes/{episode.id}/transcript",
        headers=admin_headers,
        **multipart(transcript=(content, "t.vtt")),
    )
    assert r.status_code == 422, r.data
    assert r.get_json()["error"]["message"]
    assert sorted(storage.keys()) == before
    db.session.refresh(episode)
    assert episode.transcript is None


@pytest.fixture
def small_limit_config(app_config):
    app_config["max_upload_mb"] = 1
    return app_config


@pytest.fixture
def live_server(small_limit_config):
    """The app behind a real HTTP server, as a browser or curl would reach it."""
    from podcast_service import create_app

    app = create_app(small_limit_config)
    with app.app_context():
        migrate(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, server.server_port
    server.shutdown()
    thread.join()
    server.server_close()
    dispose_app(app)


def test_a_file_above_the_limit_is_stopped_while_it_streams(live_server, tmp_path):
    """Sent chunked, with no Content-Length to check first: the spool refuses byte 1 MiB + 1."""
    from podcast_service.accounts import service as accounts
    from podcast_service.catalogue.inputs import ShowInput
    from podcast_service.catalogue.service import save_show

    app, port = live_server
    with app.app_context():
        user = accounts.create_user("big@example.org", "correct horse battery", admin=True)
        save_show(
            ShowInput(
                slug="s",
                title="S",
                description="d",
                author="a",
                owner_name="o",
                owner_email="o@example.org",
                categories=["Technology"],
            )
        )
        _t, secret = accounts.create_token(user, "t", ["read", "write"])
    boundary = "xyzboundary"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("POST", "/api/v1/shows/s/episodes")
    conn.putheader("Authorization", f"Bearer {secret}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="big.mp3"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n"
    ).encode()
    sent = 0
    try:
        for piece in [head] + [GOOD[:65536]] * 64:  # 4 MiB in all, well past the 1 MiB limit
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close before we finish: that is the point
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    assert response.status == 413
    assert "larger than the limit of 1 MB" in body
    with app.app_context():
        assert db.session.query(Episode).count() == 0
    spool_dir = app.config["PODCAST"].upload_temp_path
    assert list(spool_dir.iterdir()) == []
