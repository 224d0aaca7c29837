"""Faults an operator meets in production, made for real: killed workers, a database that stops or
hangs, a store that hangs, a full disk. The service answers 503s that say to retry, keeps what it
can serving, and cleans up after itself."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fixtures.app import (
    AUDIO,
    BASE_URL,
    DEMO_EPISODES,
    RequestClient,
    dispose_app,
    migrate,
    multipart,
    wait_for,
)
from fixtures.production import accel_demo
from fixtures.services import Gunicorn, Nginx, TcpProxy, app_environment, postgres_schema
from sqlalchemy import select
from sqlalchemy.exc import TimeoutError as PoolTimeout

from podcast_service import BACKGROUND_CONNECTIONS, create_app
from podcast_service.accounts import service as accounts
from podcast_service.core import spools, urls
from podcast_service.core.extensions import db
from podcast_service.models import Episode
from podcast_service.web.health import HEALTH_SECONDS

pytestmark = pytest.mark.servers


def http(url: str, method: str = "GET", timeout: float = 15, **headers: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, dict(e.headers), e.read()


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "upload_temp_path": str(tmp_path / "spools")}


@pytest.fixture
def served(app, app_config, runner, tmp_path):
    """The demo show in the test's database and store, served by gunicorn with the shipped config."""
    assert runner.invoke(args=["import-episodes", str(DEMO_EPISODES)]).exit_code == 0
    server = Gunicorn(app_environment(app_config), tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_worker_killed_mid_upload_leaves_a_spool_that_storage_check_removes(
    app, served, runner, admin_headers, tmp_path
):
    folder = app.config["PODCAST"].upload_temp_path
    part = b'--b\r\nContent-Disposition: form-data; name="audio"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n'
    with socket.create_connection(("127.0.0.1", served.port)) as conn:
        conn.sendall(
            b"POST /api/v1/shows/cyber-security-coalition/episodes HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: {admin_headers['Authorization']}\r\n".encode()
            + b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 500000000\r\n\r\n"
            + part
            + b"\0" * (8 << 20)
        )
        spool = wait_for(lambda: [p for p in folder.glob("upload-*") if p.stat().st_size > 0], what="a spool")[0]
        assert spools.abandoned(folder) == []  # its process holds it: not abandoned
        for pid in served.worker_pids():
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: spools.abandoned(folder), what="the spool's lock to go with its process")
    assert spool.exists()

    listed = runner.invoke(args=["storage-check", "--grace-minutes", "0"])
    assert listed.exit_code == 1 and f"abandoned {spool.name}" in listed.output
    fixed = runner.invoke(args=["storage-check", "--fix", "--grace-minutes", "0"])
    assert fixed.exit_code == 0, fixed.output
    assert "removed 1 abandoned spools" in fixed.output and not spool.exists()


def test_the_server_removes_abandoned_spools_when_it_starts(app, app_config, tmp_path):
    folder = app.config["PODCAST"].upload_temp_path
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "upload-left-by-a-crash").write_bytes(b"\0" * 1000)
    (folder / "unrelated.txt").write_text("not a spool")
    server = Gunicorn(app_environment(app_config), tmp_path)
    server.start()
    try:
        assert not (folder / "upload-left-by-a-crash").exists() and (folder / "unrelated.txt").exists()
    finally:
        server.stop()


def proxied(url: str, proxy: TcpProxy, tmp_path: Path, **settings) -> dict:
    """Settings of an app whose PostgreSQL schema (`url`) is reached through `proxy`, with its media in
    tmp_path/media."""
    return {
        "base_url": BASE_URL,
        "secret_key": "tests-only-4f1d9a7c2b8e6035d1a9f7c3e5b2a8d0",
        "database_url": url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"),
        "storage_path": str(tmp_path / "media"),
        **settings,
    }


@pytest.fixture
def pg_through_proxy(tmp_path):
    """An app on PostgreSQL reached through a TCP proxy the test can stop or freeze, with the demo show."""
    with postgres_schema() as url:
        proxy = TcpProxy(5432)
        config = proxied(
            url,
            proxy,
            tmp_path,
            upload_temp_path=str(tmp_path / "spools"),
            database_timeout_seconds=2,
        )
        app = create_app(config)
        with app.app_context():
            migrate(app)
            assert app.test_cli_runner().invoke(args=["import-episodes", str(DEMO_EPISODES)]).exit_code == 0
            db.session.remove()
        yield app, proxy
        with app.app_context():
            # A health check's thread outlives its request while the database hangs. Disposing of the
            # pool before that thread gives its connection back would leave the connection unclosed,
            # and its ResourceWarning would fail whichever test the garbage collector next runs in.
            wait_for(lambda: db.engine.pool.checkedout() == 0, what="connections back in the pool")
        proxy.stop()
        dispose_app(app)


FEED = "/shows/cyber-security-coalition/feed.xml"


def test_a_stopped_database_gives_503s_that_say_when_to_retry_and_service_recovers(pg_through_proxy):
    app, proxy = pg_through_proxy
    client = app.test_client()
    assert client.get(FEED).status_code == 200
    proxy.stop()
    for path in (FEED, "/shows/cyber-security-coalition/", "/healthz"):
        r = client.get(path)
        assert r.status_code == 503, (path, r.status_code)
        assert int(r.headers["Retry-After"]) > 0
    r = client.get("/api/v1/shows", headers={"Authorization": "Bearer pst_x"})
    assert r.status_code == 503 and "database" in r.json["error"]["message"]
    proxy.start()
    assert client.get(FEED).status_code == 200


def test_a_hung_database_gives_503_within_the_timeout_and_health_answers_in_two_seconds(pg_through_proxy, caplog):
    app, proxy = pg_through_proxy
    client = app.test_client()
    assert client.get(FEED).status_code == 200
    proxy.freeze()
    try:
        r = client.get(FEED)  # hangs until the watchdog cuts the connection: database_timeout_seconds
        assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
        with caplog.at_level(logging.WARNING, logger="podcast_service"):
            health = client.get("/healthz")
        assert health.status_code == 503
        # Answered at the health check's own bound, not after the hung database's timeout.
        assert f"database: no answer within {HEALTH_SECONDS} s" in caplog.text
    finally:
        proxy.thaw()
    assert wait_for(lambda: client.get(FEED).status_code == 200, what="recovery")


def test_api_reads_record_a_token_use_at_most_once_a_minute(client, app, admin_headers):
    from sqlalchemy import event

    writes = []

    def count_writes(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")):
            writes.append(statement)

    assert client.get("/api/v1/shows", headers=admin_headers).status_code == 200  # the first use is recorded
    event.listen(db.engine, "before_cursor_execute", count_writes)
    try:
        for _ in range(5):
            assert client.get("/api/v1/shows", headers=admin_headers).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count_writes)
    assert writes == []


def test_a_hung_store_leaves_feeds_and_pages_serving_and_health_answers_in_time(tmp_path, seaweedfs, s3_bucket, caplog):
    proxy = TcpProxy(seaweedfs.s3_port)
    app = create_app(
        {
            "base_url": BASE_URL,
            "secret_key": "tests-only-4f1d9a7c2b8e6035d1a9f7c3e5b2a8d0",
            "database_url": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "storage_backend": "s3",
            "s3_bucket": s3_bucket,
            "s3_endpoint_url": f"http://127.0.0.1:{proxy.port}",
            "s3_region": "us-east-1",
            "storage_timeout_seconds": 2,
        }
    )
    with app.app_context():
        migrate(app)
        assert app.test_cli_runner().invoke(args=["import-episodes", str(DEMO_EPISODES)]).exit_code == 0
        client = app.test_client()
        episode_page = "/shows/cyber-security-coalition/shaping-belgiums-digital-future/"
        # Healthy first (a busy machine can make a new app's first S3 check overrun the 1.8 s budget).
        wait_for(lambda: client.get("/healthz").status_code == 200, what="/healthz ok before the store hangs")
        proxy.freeze()
        try:
            with caplog.at_level(logging.WARNING, logger="podcast_service"):
                health = client.get("/healthz")
            # Answered at the health check's own bound, not after the hung store's timeout.
            assert health.status_code == 503 and f"storage: no answer within {HEALTH_SECONDS} s" in caplog.text
            for path in (FEED, episode_page, "/shows/cyber-security-coalition/"):
                assert client.get(path).status_code == 200, path
            # Media needs only a presigned URL, made without asking the store.
            audio = client.get(f"{episode_page}").text.split('src="', 1)[1].split('"', 1)[0]
            assert client.get(audio.removeprefix(BASE_URL)).status_code == 302
            # A file on its way is refused before it is read or probed, without naming the bucket.
            admin = accounts.create_user("admin@example.org", "a long admin password", admin=True)
            _token, secret = accounts.create_token(admin, "tests", ["read", "write"])
            with caplog.at_level(logging.ERROR, logger="podcast_service"):
                r = client.post(
                    "/api/v1/shows/cyber-security-coalition/episodes",
                    headers={"Authorization": f"Bearer {secret}"},
                    **multipart(audio=((AUDIO / "cbr.mp3").read_bytes() * 100, "new.mp3")),
                )
            assert (r.status_code, r.headers["Retry-After"]) == (503, "30")
            assert r.json["error"]["message"] == "The media store is not available right now; try again shortly."
            # The operator's detail: the store was asked before the file was stored (or even probed).
            assert f"could not reach the bucket in bucket {s3_bucket}" in caplog.text
            assert "could not store" not in caplog.text
        finally:
            proxy.thaw()
            proxy.stop()
        db.session.remove()
        dispose_app(app)


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MB tmpfs holding the database, the media and the spools, as the default layout has them."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(folder, name: str = "filler") -> None:
    """Write until the disk is full. Unbuffered: a buffered file would keep the last partial write and fail
    again when closed, depending on how much room the disk had left."""
    with (folder / name).open("wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError as e:
            assert e.errno == errno.ENOSPC


def test_a_full_disk_keeps_reads_serving_and_refuses_writes_cleanly(small_disk, make_token):
    app = create_app(
        {
            "base_url": BASE_URL,
            "secret_key": "tests-only-4f1d9a7c2b8e6035d1a9f7c3e5b2a8d0",
            "database_url": f"sqlite:///{small_disk / 'podcast.db'}",
            "storage_path": str(small_disk / "media"),
            "upload_temp_path": str(small_disk / "uploads"),
            "min_free_disk_mb": 8,
        }
    )
    with app.app_context():
        migrate(app)
        assert app.test_cli_runner().invoke(args=["import-episodes", str(DEMO_EPISODES)]).exit_code == 0
        admin = accounts.create_user("admin@example.org", "a long admin password", admin=True)
        headers = make_token(admin)
        client = app.test_client()
        page = "/shows/cyber-security-coalition/shaping-belgiums-digital-future/"
        assert client.get(FEED).status_code == 200 and client.get("/healthz").status_code == 200
        episode_id = client.get("/api/v1/shows/cyber-security-coalition/episodes", headers=headers).json[0]["id"]

        (small_disk / "ballast").write_bytes(b"\0" * (18 << 20))  # the disk runs low before it is full
        assert client.get("/healthz").status_code == 503
        assert client.get("/healthz", headers=headers).json["disk"].startswith("low:")

        fill(small_disk)
        for path in (FEED, page, "/shows/cyber-security-coalition/", "/"):
            assert client.get(path).status_code == 200, path
        assert client.get("/api/v1/shows", headers=headers).status_code == 200
        r = client.patch(
            f"/api/v1/shows/cyber-security-coalition/episodes/{episode_id}", json={"title": "New"}, headers=headers
        )
        assert r.status_code == 503 and "disk is full" in r.json["error"]["message"]
        r = client.post(
            "/api/v1/shows/cyber-security-coalition/episodes",
            headers=headers,
            **multipart(audio=((AUDIO / "cbr.mp3").read_bytes(), "new.mp3")),
        )
        assert r.status_code == 503 and "disk is full" in r.json["error"]["message"]
        assert str(small_disk) not in r.text and int(r.headers["Retry-After"]) > 0

        (small_disk / "filler").unlink()
        (small_disk / "ballast").unlink()
        r = client.patch(
            f"/api/v1/shows/cyber-security-coalition/episodes/{episode_id}", json={"title": "New"}, headers=headers
        )
        assert r.status_code == 200 and client.get("/healthz").status_code == 200
        db.session.remove()
        dispose_app(app)


def test_behind_nginx_a_full_disk_gives_503_on_every_upload_path(small_disk, tmp_path):
    """Every route that takes a file, through the API and the admin pages, answers a full disk with a 503
    that says when to retry: whether nginx cannot spool the body (its own temporary folder on the full disk)
    or the service cannot."""
    import http.cookiejar
    import uuid

    from fixtures.app import CSRF_FIELD, PASSWORD

    config = {
        "base_url": BASE_URL,
        "secret_key": "tests-only-4f1d9a7c2b8e6035d1a9f7c3e5b2a8d0",
        "database_url": f"sqlite:///{small_disk / 'podcast.db'}",
        "storage_path": str(small_disk / "media"),
        "upload_temp_path": str(small_disk / "uploads"),
        "trusted_proxies": 1,
    }
    app = create_app(config)
    with app.app_context():
        migrate(app)
        assert app.test_cli_runner().invoke(args=["import-episodes", str(DEMO_EPISODES)]).exit_code == 0
        admin = accounts.create_user("admin@example.org", PASSWORD, admin=True)
        _token, secret = accounts.create_token(admin, "tests", ["read", "write"])
        episode_id = db.session.query(Episode).one().id
        db.session.remove()
    dispose_app(app)
    (tmp_path / "gunicorn").mkdir()
    server = Gunicorn(app_environment(config), tmp_path / "gunicorn")
    server.start()
    # One nginx with room for request bodies, one whose temporary folder is on the full disk.
    proxies = [Nginx(f"127.0.0.1:{server.port}", folder) for folder in (tmp_path / "nginx", small_disk / "nginx")]
    for proxy in proxies:
        proxy.start()
    try:
        # The session cookie is Secure (the base URL is https): a browser would send it there, so it is sent here.
        policy = type("SecureOverHttp", (http.cookiejar.DefaultCookiePolicy,), {"return_ok_secure": lambda *a: True})
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar(policy())))
        login = f"{proxies[0].url}/admin/login"
        token = CSRF_FIELD.search(browser.open(login).read().decode()).group(1)
        form = urllib.parse.urlencode({"email": "admin@example.org", "password": PASSWORD, "csrf_token": token})
        browser.open(login, data=form.encode())
        show = "/shows/cyber-security-coalition"
        page = browser.open(f"{proxies[0].url}/admin{show}/episodes/new").read().decode()
        csrf = page.split('data-csrf="', 1)[1].split('"', 1)[0]
        fill(small_disk)

        audio = (AUDIO / "cbr.mp3").read_bytes() * 200  # past nginx's 1 MB in memory: it spools the body
        boundary = uuid.uuid4().hex
        api = {"Authorization": f"Bearer {secret}"}
        admin_xhr = {"X-CSRFToken": csrf}
        for proxy in proxies:
            for method, path, field, name, headers, opener in (
                ("POST", f"/api/v1{show}/episodes", "audio", "new.mp3", api, None),
                ("PATCH", f"/api/v1{show}/episodes/{episode_id}", "audio", "new.mp3", api, None),
                ("POST", f"/api/v1{show}/episodes/{episode_id}/alternates", "audio", "new.mp3", api, None),
                ("PUT", f"/api/v1{show}/episodes/{episode_id}/transcript", "transcript", "t.vtt", api, None),
                ("PUT", f"/api/v1{show}/image", "image", "cover.jpg", api, None),
                ("POST", f"/admin{show}/episodes/upload", "audio", "new.mp3", admin_xhr, browser),
                ("POST", f"/admin{show}/episodes/{episode_id}/audio", "audio", "new.mp3", admin_xhr, browser),
            ):
                body = (
                    (
                        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n\r\n'
                    ).encode()
                    + audio
                    + f"\r\n--{boundary}--\r\n".encode()
                )
                request = urllib.request.Request(
                    proxy.url + path,
                    data=body,
                    method=method,
                    headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **headers},
                )
                try:
                    (opener or urllib.request.build_opener()).open(request, timeout=60)
                    status, retry, text = 200, None, ""
                except urllib.error.HTTPError as e:
                    with e:
                        status, retry, text = e.code, e.headers.get("Retry-After"), e.read().decode()
                assert (status, retry) == (503, "30"), (str(proxy.workdir), path, status, text)
                assert "disk" in text and str(small_disk) not in text, (path, text)
    finally:
        for proxy in proxies:
            proxy.stop()
        server.stop()


def test_a_retried_upload_with_the_same_idempotency_key_makes_one_episode(client, show, admin_headers):
    def upload(key: str):
        return client.post(
            "/api/v1/shows/test-show/episodes",
            headers={**admin_headers, "Idempotency-Key": key},
            **multipart(audio=((AUDIO / "cbr.mp3").read_bytes(), "ep.mp3"), title="Once"),
        )

    first = upload("3f1c1d2e-retry")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = upload("3f1c1d2e-retry")  # the client never saw the first answer and tries again
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    assert len(client.get("/api/v1/shows/test-show/episodes", headers=admin_headers).json) == 1
    other = upload("another-key")
    assert other.status_code == 409  # a second episode, but the slug "once" is taken: said plainly
    assert upload("\x7f" * 3).status_code == 422


def test_a_second_import_at_once_is_refused_in_one_line_naming_the_first(app, runner, demo_folder):
    import socket as sockets

    from podcast_service.models import RunLock

    running = subprocess.Popen(["sleep", "30"])  # stands in for the first run's process
    try:
        db.session.add(RunLock(name="import-episodes", holder=f"{sockets.gethostname()}:{running.pid}"))
        db.session.commit()
        result = runner.invoke(args=["import-episodes", str(demo_folder)])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"import-episodes is already running in process {sockets.gethostname()}:{running.pid}" in result.output
    finally:
        running.kill()
        running.wait()
    # Its process gone (killed, say), the lock is taken over and the import runs.
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    assert result.exit_code == 0, result.output
    assert db.session.query(RunLock).count() == 0


def test_replacing_audio_while_other_episodes_are_edited_never_fails(
    app, app_config, make_episode, admin_headers, tmp_path
):
    """Real workers, many threads: on PostgreSQL this deadlocked when locks were taken in no fixed order."""
    from concurrent.futures import ThreadPoolExecutor

    episodes = [make_episode(title=f"Episode {n}", people=[]).id for n in range(4)]
    server = Gunicorn(app_environment(app_config), tmp_path, workers=2, threads=8)
    server.start()
    audio = {name: (AUDIO / name).read_bytes() for name in ("cbr.mp3", "vbr_xing.mp3")}

    def replace_audio(n: int) -> int:
        boundary = "b0undary"
        name = ("cbr.mp3", "vbr_xing.mp3")[n % 2]
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="{name}"\r\n'
                f"Content-Type: audio/mpeg\r\n\r\n"
            ).encode()
            + audio[name]
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            f"{server.url}/api/v1/shows/test-show/episodes/{episodes[0]}",
            data=body,
            method="PATCH",
            headers={**admin_headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def edit(n: int) -> int:
        episode_id = episodes[1 + n % 3]
        request = urllib.request.Request(
            f"{server.url}/api/v1/shows/test-show/episodes/{episode_id}",
            method="PATCH",
            data=json.dumps({"title": f"Edit {n}", "people": [{"name": f"Guest {n}"}]}).encode(),
            headers={**admin_headers, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def poll(_n: int) -> int:  # each change makes the next poll rebuild the feed, locking its cache row
        try:
            with urllib.request.urlopen(f"{server.url}/shows/test-show/feed.xml", timeout=60) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            replaced = pool.map(replace_audio, range(24))
            edited = pool.map(edit, range(72))
            polled = pool.map(poll, range(48))
            statuses = list(replaced) + list(edited) + list(polled)
    finally:
        server.stop()
    assert statuses == [200] * 144, sorted(set(statuses))


def test_no_transaction_is_open_while_audio_is_probed_or_sent(
    client, show, make_episode, admin_headers, storage, monkeypatch
):
    from podcast_service.catalogue import service as service
    from podcast_service.media.audio import probe as media

    episode_id = make_episode().id
    seen = []
    real_put, real_probe = storage.put, media.probe

    def put(key, stream, **kwargs):
        if key.startswith("audio/"):
            seen.append(("put", db.session().in_transaction()))
        return real_put(key, stream, **kwargs)

    def probe(path, **limits):
        seen.append(("probe", db.session().in_transaction()))
        return real_probe(path, **limits)

    monkeypatch.setattr(storage, "put", put)
    monkeypatch.setattr(service.audio_probe, "probe", probe)
    r = client.patch(
        f"/api/v1/shows/test-show/episodes/{episode_id}",
        headers=admin_headers,
        **multipart(audio=((AUDIO / "vbr_xing.mp3").read_bytes(), "new.mp3")),
    )
    assert r.status_code == 200, r.json
    r = client.post(
        f"/api/v1/shows/test-show/episodes/{episode_id}/alternates",
        headers=admin_headers,
        **multipart(audio=((AUDIO / "opus.opus").read_bytes(), "alt.opus")),
    )
    assert r.status_code == 201, r.json
    assert [kind for kind, _ in seen] == ["probe", "put", "probe", "put"]
    # A master: the upload, then the audio job's MP3 and Opus (this job runs in the request: immediate mode).
    r = client.patch(
        f"/api/v1/shows/test-show/episodes/{episode_id}",
        headers=admin_headers,
        **multipart(audio=((AUDIO / "flac.flac").read_bytes(), "master.flac")),
    )
    assert r.status_code == 200 and r.json["mime_type"] == "audio/mpeg", r.json
    assert [kind for kind, _ in seen[4:]] == ["probe", "put", "probe", "put", "probe", "put"]
    assert not any(open_ for _, open_ in seen), seen


@pytest.fixture
def production(app, app_config, runner, tmp_path):
    """The production setup (docs/production.md): nginx (deploy/nginx.conf) in front of gunicorn (gunicorn.conf.py),
    with few threads, so a held thread would show."""
    assert runner.invoke(args=["import-episodes", str(DEMO_EPISODES)]).exit_code == 0
    server = Gunicorn(app_environment({**app_config, "trusted_proxies": 1}), tmp_path, workers=1, threads=4)
    server.start()
    proxy = Nginx(f"127.0.0.1:{server.port}", tmp_path / "nginx")
    proxy.start()
    yield proxy
    proxy.stop()
    server.stop()


def wav_header(seconds: int) -> bytes:
    """A 16-bit stereo 48 kHz WAV header for `seconds` of audio (the samples follow)."""
    data = seconds * 48000 * 4
    return (
        b"RIFF"
        + (36 + data).to_bytes(4, "little")
        + b"WAVEfmt "
        + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little")
        + (2).to_bytes(2, "little")
        + (48000).to_bytes(4, "little")
        + (48000 * 4).to_bytes(4, "little")
        + (4).to_bytes(2, "little")
        + (16).to_bytes(2, "little")
        + b"data"
        + data.to_bytes(4, "little")
    )


def slow_upload(url: str, headers: dict, seconds_of_audio: int, chunk: int = 1 << 20, pause: float = 0.02) -> dict:
    """Send a WAV master as a producer on a slow line would: a megabyte at a time, with pauses."""
    parsed = urllib.parse.urlsplit(url)
    head = (
        b'--b\r\nContent-Disposition: form-data; name="status"\r\n\r\npublished\r\n'
        b'--b\r\nContent-Disposition: form-data; name="audio"; filename="master.wav"\r\n'
        b"Content-Type: audio/wav\r\n\r\n" + wav_header(seconds_of_audio)
    )
    samples, tail = seconds_of_audio * 48000 * 4, b"\r\n--b--\r\n"
    length = len(head) + samples + len(tail)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=120) as conn:
        conn.sendall(
            f"POST {parsed.path} HTTP/1.1\r\nHost: {parsed.netloc}\r\n".encode()
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
            + f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {length}\r\n"
            "Connection: close\r\n\r\n".encode()
            + head
        )
        block = b"\0" * chunk
        for offset in range(0, samples, chunk):
            conn.sendall(block[: min(chunk, samples - offset)])
            time.sleep(pause)
        conn.sendall(tail)
        response = b""
        while data := conn.recv(65536):
            response += data
    status_line, _, rest = response.partition(b"\r\n")
    body = rest.split(b"\r\n\r\n", 1)[1]
    return {"status": int(status_line.split()[1]), "json": json.loads(body)}


def test_behind_nginx_a_slow_300_mb_upload_and_slow_listeners_leave_feed_polls_answered(production, admin_headers):
    from concurrent.futures import ThreadPoolExecutor

    base = production.url
    status, _, page = http(f"{base}/shows/cyber-security-coalition/shaping-belgiums-digital-future/")
    audio = page.decode().split("<audio", 1)[1].split('src="', 1)[1].split('"', 1)[0].removeprefix(BASE_URL)

    def slow_listener(_n: int) -> int:
        """Reads the episode at about 160 KB/s: far slower than the server sends."""
        with urllib.request.urlopen(base + audio, timeout=60) as r:
            while r.read(16384):
                time.sleep(0.1)
            return r.status

    def polls() -> list[int]:
        return [http(f"{base}{FEED}", timeout=10)[0] for _ in range(20) if time.sleep(0.3) is None]

    with ThreadPoolExecutor(max_workers=12) as pool:
        upload = pool.submit(
            slow_upload, f"{base}/api/v1/shows/cyber-security-coalition/episodes", admin_headers, seconds_of_audio=1600
        )  # 1600 s of 48 kHz stereo: 307 MB
        listeners = [pool.submit(slow_listener, n) for n in range(6)]  # more listeners than gunicorn threads
        feed_statuses = pool.submit(polls).result()
        assert feed_statuses == [200] * 20
        assert [f.result() for f in listeners] == [200] * 6
        uploaded = upload.result()
    assert uploaded["status"] == 201, uploaded
    assert uploaded["json"]["duration"] == 1600 and uploaded["json"]["status"] == "published"


def test_behind_nginx_media_bytes_come_from_nginx_with_the_service_headers(tmp_path, make_token):
    """accel_redirect: the service checks and answers with headers; nginx sends the bytes, ranges and HEAD."""
    config, app, audio_path, stored, etag = accel_demo(tmp_path)
    media = Path(config["storage_path"])
    assert oct(stored.stat().st_mode & 0o777) == "0o640"
    server = Gunicorn(app_environment(config), tmp_path)
    server.start()
    proxy = Nginx(f"127.0.0.1:{server.port}", tmp_path / "nginx", media=media)
    proxy.start()
    try:
        data = stored.read_bytes()
        status, headers, body = http(proxy.url + audio_path)
        assert status == 200 and body == data and headers["ETag"] == f'"{etag}"'
        assert headers["Content-Type"] == "audio/mpeg" and "immutable" in headers["Cache-Control"]
        assert "Cookie" not in headers.get("Vary", "") and "X-Accel-Redirect" not in headers
        status, headers, body = http(proxy.url + audio_path, Range="bytes=100-65635")
        assert status == 206 and body == data[100:65636]
        assert headers["Content-Range"] == f"bytes 100-65635/{len(data)}"
        status, headers, body = http(proxy.url + audio_path, method="HEAD")
        assert status == 200 and headers["Content-Length"] == str(len(data)) and body == b""
        assert http(proxy.url + audio_path, **{"If-None-Match": f'"{etag}"'})[0] == 304
        # What the service refuses, nginx never serves: unknown files, and the internal location itself.
        assert http(proxy.url + audio_path.replace(audio_path.split("/")[2], "0" * 32))[0] == 404
        assert http(f"{proxy.url}/_media/{stored.relative_to(media)}")[0] == 404
    finally:
        proxy.stop()
        server.stop()


@pytest.mark.parametrize("same_audio", [False, True])
def test_a_saved_episode_is_answered_from_one_read_of_its_row_and_files(app, make_episode, same_audio):
    """What an edit answers is read in one statement after the commit. Read row by row, a replacement of
    the audio committed between the episode's row and its file's left the answer with no file: a 500, seen
    with concurrent replacements when one of them uploaded the file the episode already had."""
    from dataclasses import replace

    from fixtures.counting import counting

    from podcast_service.catalogue.serialize import episode_json
    from podcast_service.catalogue.service import episode_input, save_episode

    episode = make_episode(title="Before")
    audio = AUDIO / "cbr.mp3" if same_audio else None
    saved = save_episode(episode.show, replace(episode_input(episode), title="After"), audio, existing=episode)
    with counting() as read:
        answer = episode_json(saved)
    assert answer["title"] == "After" and answer["duration"] > 0
    assert [s for s in read if "episodes" in s or "media_files" in s] == []


def test_when_every_connection_is_busy_a_request_waits_the_database_timeout_then_gets_503(
    app_config, show, admin_headers
):
    """The pool holds one connection per request thread and a few for background threads; should all be taken
    (threads stuck on a frozen database), the next request waits `database_timeout_seconds`, then answers 503."""
    app = create_app({**app_config, "threads": 1, "database_timeout_seconds": 1})
    app.test_client_class = RequestClient  # each request takes its own connection, as in production
    client = app.test_client()
    with app.app_context():
        assert client.get("/shows/test-show/").status_code == 200
        held = []
        with contextlib.suppress(PoolTimeout):  # every connection the pool will give (background threads hold some)
            while len(held) <= 1 + BACKGROUND_CONNECTIONS:
                held.append(db.engine.connect())
        assert held and len(held) <= 1 + BACKGROUND_CONNECTIONS
        try:
            for path, headers in (("/shows/test-show/search?q=test", {}), ("/api/v1/shows", admin_headers)):
                r = client.get(path, headers=headers)
                assert r.status_code == 503 and r.headers["Retry-After"] == "30", (path, r.status_code)
                assert "database is not available" in r.text
        finally:
            for connection in held:
                connection.close()
        assert client.get("/shows/test-show/").status_code == 200
        db.session.remove()
    dispose_app(app)


def test_a_worker_started_while_the_database_is_down_waits_and_works_once_it_is_back(tmp_path):
    """Started during an outage (a host's reboot order), the worker neither exits nor needs restarting."""
    from fixtures.masters import write_master
    from fixtures.services import Worker

    from podcast_service.catalogue.inputs import EpisodeInput, ShowInput
    from podcast_service.catalogue.service import save_episode, save_show
    from podcast_service.models import AudioJob

    with postgres_schema() as url:
        proxy = TcpProxy(5432)
        config = proxied(
            url,
            proxy,
            tmp_path,
            queue_url=f"sqlite:///{tmp_path / 'queue.db'}",
            jobs_immediate=False,
            database_timeout_seconds=2,
        )
        app = create_app(config)
        with app.app_context():
            migrate(app)
            db.session.remove()
        proxy.stop()
        worker = Worker(app_environment(config), tmp_path)
        worker.start()
        try:
            wait_for(lambda: "waiting for the database" in worker.log_path.read_text(), what="the worker to wait")
            assert worker.process.poll() is None
            proxy.start()
            wait_for(lambda: "worker: 1 thread(s)" in worker.log_path.read_text(), what="the worker to be ready")
            # Below the web processes' CPU priority (worker_nice): encoding yields to serving.
            assert os.getpriority(os.PRIO_PROCESS, worker.process.pid) == os.getpriority(os.PRIO_PROCESS, 0) + 10
            with app.app_context():
                show = save_show(
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
                episode = save_episode(show, EpisodeInput(title="E"), write_master(tmp_path / "m.wav", 2.0))

                def done() -> bool:
                    db.session.rollback()
                    return db.session.scalar(select(AudioJob.state).where(AudioJob.episode_id == episode.id)) == "done"

                wait_for(done, what="the job", logs=[worker])
                db.session.remove()
        finally:
            worker.stop()
            proxy.stop()
            dispose_app(app)


@pytest.mark.parametrize("fault", ["stop", "freeze"])
def test_while_the_database_is_down_nginx_sends_what_was_published_and_the_rest_is_503(tmp_path, fault):
    """The service answers 503 without its database (stopped, or frozen until the watchdog cuts the wait);
    nginx then sends the feed and audio it kept, as it does while gunicorn is down, and passes every other
    503 on."""
    from fixtures.production import answer, answered_alone

    slug = "cyber-security-coalition"
    with postgres_schema() as url:
        database = TcpProxy(5432)
        media = tmp_path / "media"
        config = proxied(
            url,
            database,
            tmp_path,
            upload_temp_path=str(tmp_path / "spools"),
            accel_redirect="/_media",
            trusted_proxies=1,
            analytics=False,
            database_timeout_seconds=2,
        )
        app = create_app(config)
        with app.app_context():
            migrate(app)
            assert app.test_cli_runner().invoke(args=["import-episodes", str(DEMO_EPISODES)]).exit_code == 0
            episode = db.session.query(Episode).one()
            audio, stored = urllib.parse.urlsplit(urls.audio_url(episode)).path, media / episode.audio.key
            db.session.remove()
        dispose_app(app)
        (tmp_path / "gunicorn").mkdir()
        server = Gunicorn(app_environment(config), tmp_path / "gunicorn")
        server.start()
        proxy = Nginx(f"127.0.0.1:{server.port}", tmp_path / "nginx", media=media)
        proxy.start()
        links, public_id = media / ".published", audio.split("/")[2]
        try:
            # Through the service once each: it leaves the feed's files and the audio's links for nginx.
            _, _, feed, _ = answered_alone(
                proxy.port, f"/shows/{slug}/feed.xml", lambda w: (links / w / "feeds" / f"{slug}.xml").is_symlink()
            )
            answered_alone(proxy.port, audio, lambda w: any((links / w).glob(f"*/{public_id}.*")))
            getattr(database, fault)()
            # A restarted gunicorn, which remembers nothing of the files it answered for: it must ask the
            # database, and answers 503. (Its memory would otherwise answer for a few seconds.)
            server.stop()
            server.start()
            for window in [d for d in links.iterdir() if d.name.isdigit()]:  # as the ten seconds turning would
                shutil.rmtree(window)
            assert answer(server.port, f"/shows/{slug}/feed.xml")[0] == 503
            assert answer(proxy.port, f"/shows/{slug}/feed.xml")[::2] == (200, feed)
            status, _, part = answer(proxy.port, audio, Range="bytes=0-99")
            assert (status, part) == (206, stored.read_bytes()[:100])
            # Everything else is the service's 503, or nginx's own when it kept nothing.
            for path, headers in (
                ("/api/v1/shows", {"Authorization": "Bearer pst_not-a-real-token"}),
                ("/shows/no-such-show/feed.xml", {}),
                ("/healthz", {}),
            ):
                status, answered, _ = answer(proxy.port, path, **headers)
                assert (status, answered.get("Retry-After")) == (503, "30"), path
        finally:
            proxy.stop()
            server.stop()
            database.stop()


def test_the_watchdog_cuts_only_connections_whose_server_has_not_answered():
    """A connection whose answer came back but was not read yet (its thread starved of CPU by an encode) is
    healthy; one whose server is frozen is cut."""
    import psycopg
    from fixtures.services import PG_ADMIN_DSN

    from podcast_service.core.db_watchdog import Watchdog

    watchdog = Watchdog(timeout=0)  # every round trip is overdue at once
    proxy = TcpProxy(5432)
    answered = psycopg.connect(PG_ADMIN_DSN)
    frozen = psycopg.connect(PG_ADMIN_DSN.replace("port=5432", f"port={proxy.port}"))
    try:
        answered.pgconn.send_query(b"SELECT 1")
        wait_for(lambda: select_readable(answered.pgconn.socket), what="the server's answer")
        proxy.freeze()
        frozen.pgconn.send_query(b"SELECT 1")
        for connection in (answered, frozen):
            watchdog.mark(connection)
        assert watchdog.sweep_once() == 1
        assert answered.pgconn.get_result().status == psycopg.pq.ExecStatus.TUPLES_OK  # its answer was there
        with pytest.raises(psycopg.OperationalError):  # its socket is shut: the waiting call fails at once
            frozen.pgconn.consume_input()
    finally:
        answered.close()
        frozen.close()
        proxy.stop()


def select_readable(fd: int) -> bool:
    import select

    return bool(select.select([fd], [], [], 0)[0])


def test_behind_nginx_health_answers_503_in_two_seconds_while_every_thread_waits(tmp_path):
    """gunicorn's only thread waits on a frozen database: /healthz through nginx still answers, with a 503
    that says when to retry, before that wait ends."""
    from fixtures.production import answer

    with postgres_schema(reuse=True) as url:
        database = TcpProxy(5432)
        config = proxied(
            url,
            database,
            tmp_path,
            trusted_proxies=1,
            database_timeout_seconds=600,  # the waiting request ends only when the test thaws the database
        )
        app = create_app(config)
        with app.app_context():
            migrate(app)
            assert app.test_cli_runner().invoke(args=["import-episodes", str(DEMO_EPISODES)]).exit_code == 0
            db.session.remove()
        dispose_app(app)
        (tmp_path / "gunicorn").mkdir()
        server = Gunicorn(app_environment(config), tmp_path / "gunicorn", threads=1)
        server.start()
        proxy = Nginx(f"127.0.0.1:{server.port}", tmp_path / "nginx")
        proxy.start()
        try:
            assert answer(proxy.port, "/healthz")[0] == 200
            database.freeze()
            waiting = ThreadPoolExecutor(1).submit(answer, proxy.port, "/shows/cyber-security-coalition/")
            wait_for(lambda: database.held, what="the page's query held by the frozen database", logs=[server])
            status, headers, _ = answer(proxy.port, "/healthz")
            assert (status, headers.get("Retry-After")) == (503, "30")
            assert not waiting.done()
            database.thaw()
            assert waiting.result()[0] == 200
        finally:
            database.stop()
            proxy.stop()
            server.stop()
