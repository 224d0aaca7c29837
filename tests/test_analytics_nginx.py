"""Counting behind the production setup: nginx (deploy/nginx.conf) sends the bytes, with X-Accel-Redirect or
alone from the service's kept decision (reporting each request over `analytics_log_socket`), gunicorn
(gunicorn.conf.py) records each request once, and no log or table keeps the listener's address."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from conftest import wait_for
from podcast_service.analytics import counting, nginx_log
from podcast_service.audio import probe
from podcast_service.extensions import db
from podcast_service.models import Episode, MediaRequest, utcnow
from services import ROOT, Gunicorn, Nginx, app_environment
from test_resilience import accel_demo

# Loopback answers from any 127.x.y.z: a client address that can be looked for everywhere afterwards.
CLIENT = "127.38.211.97"
APPLE = "Podcasts/1555.2.1 CFNetwork/1410.0.3 Darwin/22.6.0"


def answer(port: int, path: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15, source_address=(CLIENT, 0))
    try:
        connection.request(method, path, headers={"User-Agent": APPLE, **headers})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def ask(port: int, path: str, method: str = "GET", **headers: str) -> tuple[int, bytes]:
    status, _, body = answer(port, path, method, **headers)
    return status, body


def recorded_rows(app, at_least: int):  # noqa: ANN001, ANN201
    """The recorded requests (method, range, listener) once there are `at_least`, else None."""
    with app.app_context():
        rows = db.session.execute(select(MediaRequest.method, MediaRequest.range_start, MediaRequest.range_end,
                                         MediaRequest.listener).order_by(MediaRequest.id)).all()
        db.session.remove()
    return [tuple(r) for r in rows] if len(rows) >= at_least else None


def media_lines(server: Gunicorn) -> int:
    """How many media requests reached gunicorn (its access log: one line per request)."""
    return sum('/media/' in line for line in server.log_path.read_text().splitlines() if line.startswith('"'))


def test_ranged_head_and_full_requests_through_nginx_are_each_recorded_once(tmp_path):
    config, app, path, stored, sha256 = accel_demo(tmp_path)
    size, media = stored.stat().st_size, Path(config["storage_path"])
    server = Gunicorn(app_environment(config), tmp_path)
    server.start()
    proxy = Nginx(f"127.0.0.1:{server.port}", tmp_path / "nginx", media=media)
    proxy.start()
    try:
        assert ask(proxy.port, path, Range="bytes=100-65635")[0] == 206
        assert ask(proxy.port, path, "HEAD")[0] == 200
        status, body = ask(proxy.port, path)
        assert status == 200 and len(body) == size
        assert ask(proxy.port, path, **{"If-None-Match": f'"{sha256}"'})[0] == 304  # nothing delivered

        def recorded():  # noqa: ANN202
            with app.app_context():
                rows = db.session.execute(select(MediaRequest.method, MediaRequest.range_start, MediaRequest.range_end)
                                          .order_by(MediaRequest.id)).all()
                db.session.remove()
            return rows if len(rows) >= 2 else None
        rows = wait_for(recorded, what="two recorded requests", logs=[server])
        assert [tuple(r) for r in rows] == [("GET", 100, 65635), ("GET", 0, size - 1)]  # a HEAD is never kept
    finally:
        proxy.stop()
        server.stop()
    # The address reached gunicorn (nginx forwards it, trusted_proxies=1), and went nowhere it could stay.
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "access.log" for p in written) and tmp_path / "gunicorn.log" in written
    assert [p for p in written if CLIENT.encode() in p.read_bytes()] == []


@pytest.fixture
def media_log():
    """A path for the log socket short enough for a Unix socket (pytest's own folders can be too long)."""
    folder = tempfile.mkdtemp(prefix="podcast-log-", dir="/tmp")
    yield f"{folder}/media.sock"
    shutil.rmtree(folder, ignore_errors=True)


def served_alone(tmp_path, media_log: str, lookup_seconds: int):  # noqa: ANN201
    """The demo behind nginx and gunicorn, with nginx's media log going to the service."""
    config, app, path, stored, sha256 = accel_demo(tmp_path)
    config.update(analytics_log_socket=media_log, media_lookup_seconds=lookup_seconds)
    server = Gunicorn(app_environment(config), tmp_path)
    server.start()
    proxy = Nginx(f"127.0.0.1:{server.port}", tmp_path / "nginx", media=Path(config["storage_path"]),
                  media_log=media_log)
    proxy.start()
    return app, path, stored, sha256, server, proxy


def test_plain_requests_are_sent_by_nginx_alone_and_each_counted_once_from_its_log(tmp_path, media_log):
    app, path, stored, sha256, server, proxy = served_alone(tmp_path, media_log, lookup_seconds=10)
    data, size = stored.read_bytes(), stored.stat().st_size
    try:
        status, alone, body = answer(proxy.port, path, Range="bytes=100-65635")
        assert status == 206 and body == data[100:65636] and alone["Content-Range"] == f"bytes 100-65635/{size}"
        assert ask(proxy.port, path, "HEAD") == (200, b"")
        assert ask(proxy.port, path) == (200, data)
        assert ask(proxy.port, path, Range="bytes=0-1") == (206, data[:2])
        # One decision for all four: nginx kept it.
        assert wait_for(lambda: media_lines(server), what="the decision in gunicorn's log") == 1
        # A request that is not plain goes to the service, which answers (and counts) it itself, with the
        # same headers; a client's own decision header is cleared on the way, so it gets the file.
        status, through, body = answer(proxy.port, path, Cookie="theme=dark", **{"X-Podcast-Media-Decision": "1"})
        assert status == 200 and body == data
        assert ask(proxy.port, path, **{"If-None-Match": f'"{sha256}"'})[0] == 304  # nothing delivered
        assert ask(proxy.port, path + "?preview=not-a-key")[0] == 200  # served as a preview: not counted
        wait_for(lambda: media_lines(server) >= 4, what="three more requests in gunicorn's log")
        for name in ("ETag", "Last-Modified", "Content-Type", "Content-Disposition", "Cache-Control",
                     "Access-Control-Allow-Origin", "Access-Control-Expose-Headers"):
            assert alone[name] == through[name], name
        assert alone["ETag"] == f'"{sha256}"' and alone["Content-Type"] == "audio/mpeg"
        assert "X-Podcast-Media-Path" not in alone and "X-Podcast-Media-Count" not in alone

        rows = wait_for(lambda: recorded_rows(app, 4), what="four recorded requests", logs=[server])
        assert sorted(r[:3] for r in rows) == sorted([
            ("GET", 100, 65635), ("GET", 0, size - 1), ("GET", 0, 1),  # from nginx's log (a HEAD is never kept)
            ("GET", 0, size - 1)])  # by the service: the request with a cookie
        assert len({r[3] for r in rows}) == 1  # one listener, whichever process saw the address
        assert media_lines(server) == 4
        with app.app_context():
            assert sum(counting.tally(utcnow().date()).values()) == 1
            db.session.remove()
    finally:
        proxy.stop()
        server.stop()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p for p in written if CLIENT.encode() in p.read_bytes()] == []


def test_nginx_stops_sending_an_unpublished_episode_alone_and_keeps_sending_while_the_service_is_down(
        tmp_path, media_log):
    app, path, stored, _, server, proxy = served_alone(tmp_path, media_log, lookup_seconds=1)
    try:
        assert ask(proxy.port, path, Range="bytes=0-99")[0] == 206
        server.stop()
        # The service is down: the kept decision still serves plain requests; the others get the gateway error.
        assert ask(proxy.port, path, Range="bytes=0-99") == (206, stored.read_bytes()[:100])
        assert ask(proxy.port, path, Cookie="a=b")[0] == 502
        server.start()
        with app.app_context():
            db.session.execute(update(Episode).values(published_at=utcnow() + timedelta(days=1)))
            db.session.commit()
            db.session.remove()
        # Within media_lookup_seconds (and the one request answered while the decision is renewed):
        # the service's 404.
        wait_for(lambda: ask(proxy.port, path, Range="bytes=0-99")[0] == 404, what="a 404", logs=[server])
        assert [ask(proxy.port, path, method)[0] for method in ("GET", "HEAD")] == [404, 404]
    finally:
        proxy.stop()
        server.stop()


def test_lines_the_service_cannot_use_are_skipped_and_the_next_ones_counted(tmp_path, media_log):
    app, path, _, _, server, proxy = served_alone(tmp_path, media_log, lookup_seconds=10)
    try:
        with app.app_context():
            episode = db.session.scalars(select(Episode)).one()
            good = (f'<190>Nov 28 13:43:06 podcast: {{"t":"1795873386.5","m":"GET","s":"206","r":"bytes=0-9",'
                    f'"a":"{CLIENT}","f":"","u":"{APPLE}","e":"","c":"{episode.id} {episode.audio_id} 100 10"}}')
            db.session.remove()
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for hostile in (b"garbage", b"<190>podcast: {", good[:len(good) // 2].encode(),
                        good.replace('"206"', '"416"').encode(),
                        good.replace(f"{episode.id} ", "99999 ").encode(),  # an episode that does not exist
                        good.replace('"t":"1795873386.5"', '"t":"1e400"').encode()):
            sender.sendto(hostile, media_log)
        sender.sendto(good.encode(), media_log)
        sender.close()
        rows = wait_for(lambda: recorded_rows(app, 1), what="the good line recorded", logs=[server])
        assert [r[:3] for r in rows] == [("GET", 0, 9)]
        assert ask(proxy.port, path, Range="bytes=0-99")[0] == 206  # the reader is still reading
        wait_for(lambda: recorded_rows(app, 2), what="the next request recorded", logs=[server])
    finally:
        proxy.stop()
        server.stop()


def test_the_log_socket_replaces_only_a_socket_nobody_reads(tmp_path, media_log):
    """A wrong setting pointing at a file must not delete it, nor a second server take a running one's lines;
    a socket a killed server left is replaced."""
    kept = tmp_path / "notes.txt"
    kept.write_text("mine")
    with pytest.raises(OSError, match="not a socket"):
        nginx_log.bind(str(kept))
    assert kept.read_text() == "mine"
    first = nginx_log.bind(media_log)
    with pytest.raises(OSError, match="another process reads"):
        nginx_log.bind(media_log)  # a second server started with the same setting
    first.close()  # the file stays, as after a kill
    second = nginx_log.bind(media_log)
    try:
        assert oct(Path(media_log).stat().st_mode & 0o777) == "0o660"
    finally:
        second.close()


@pytest.mark.parametrize(("trusted", "forwarded", "client"), [
    (1, "", "198.51.100.7"), (1, "203.0.113.9", "198.51.100.7"), (2, "203.0.113.9", "203.0.113.9"),
    (2, "192.0.2.1, 203.0.113.9", "203.0.113.9"), (2, "", "198.51.100.7"), (0, "203.0.113.9", "198.51.100.7")])
def test_the_listener_address_is_taken_as_the_service_takes_it(trusted, forwarded, client):
    """nginx's $remote_addr and the X-Forwarded-For it received, read with `trusted_proxies` as ProxyFix reads
    what nginx forwards (its own $remote_addr appended)."""
    assert nginx_log.Lines(None, trusted).client("198.51.100.7", forwarded) == client


def test_nginx_sends_each_stored_audio_format_with_the_type_the_service_gives_it():
    """The media location's own `types` block must name every format the service stores, as it names it."""
    site = (Path(__file__).parent.parent / "deploy" / "nginx.conf").read_text()
    block = site.split("types {", 1)[1].split("}", 1)[0]
    types = {line.split()[1].rstrip(";"): line.split()[0] for line in block.splitlines() if line.strip().endswith(";")}
    assert types == {extension: mime for extension, mime in probe.FORMATS.values()}


def test_gunicorn_refuses_to_start_with_a_log_socket_it_cannot_make(tmp_path):
    env = {**app_environment({"database_url": f"sqlite:///{tmp_path / 'db.sqlite'}",
                              "analytics_log_socket": str(tmp_path / "missing" / "media.sock")}),
           "PODCAST_BIND": "127.0.0.1:0"}
    done = subprocess.run([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                           "podcast_service:create_app()"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert f"analytics_log_socket: cannot make {tmp_path}/missing/media.sock" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_operator_is_told_when_the_kernel_lets_too_few_lines_wait(tmp_path):
    setting = tmp_path / "max_dgram_qlen"
    setting.write_text("10\n")
    assert "sysctl -w net.unix.max_dgram_qlen=1024" in nginx_log.queue_warning(setting)
    setting.write_text("4096\n")
    assert nginx_log.queue_warning(setting) is None
    assert nginx_log.queue_warning(tmp_path / "not-linux") is None


def test_when_the_reading_worker_is_killed_another_reads_on(tmp_path, media_log):
    """One worker reads the log at a time (a lock beside the socket); killed outright, its lock goes with it."""
    config, app, path, _, _ = accel_demo(tmp_path)
    config.update(analytics_log_socket=media_log, media_lookup_seconds=10)
    server = Gunicorn(app_environment(config), tmp_path, workers=2)
    server.start()
    proxy = Nginx(f"127.0.0.1:{server.port}", tmp_path / "nginx", media=Path(config["storage_path"]),
                  media_log=media_log)
    proxy.start()
    try:
        assert ask(proxy.port, path, Range="bytes=0-99")[0] == 206
        wait_for(lambda: recorded_rows(app, 1), what="the first request recorded", logs=[server])
        lock = os.stat(f"{media_log}.lock").st_ino
        [reader] = [int(line.split()[4]) for line in Path("/proc/locks").read_text().splitlines()
                    if "FLOCK" in line and "->" not in line and line.split()[5].endswith(f":{lock}")]
        assert reader in server.worker_pids()
        os.kill(reader, signal.SIGKILL)
        wait_for(lambda: reader not in server.worker_pids(), what="the reader gone", logs=[server])
        assert ask(proxy.port, path, Range="bytes=100-199")[0] == 206
        rows = wait_for(lambda: recorded_rows(app, 2), what="the next request recorded", logs=[server])
        assert [r[:3] for r in rows] == [("GET", 0, 99), ("GET", 100, 199)]
    finally:
        proxy.stop()
        server.stop()


def test_nginx_reports_each_get_that_may_start_within_the_first_minute_and_nothing_else(tmp_path, media_log):
    """What nginx sends down the socket, read here instead of by gunicorn: one JSON line per GET whose range
    may start within the threshold (a start with no more digits), none for a HEAD or a range further on."""
    config, app, path, stored, _ = accel_demo(tmp_path)
    config.update(analytics_log_socket=media_log, media_lookup_seconds=10)
    with app.app_context():
        episode = db.session.scalars(select(Episode)).one()
        audio = episode.audio
        count = f"{episode.id} {audio.id} {audio.size} {counting.threshold(audio.size, audio.duration, audio.bitrate)}"
        db.session.remove()
    beyond = 10 ** len(count.split()[-1])  # the smallest start with more digits than the threshold
    server = Gunicorn(app_environment(config), tmp_path)
    server.start()
    reading = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    reading.bind(f"{media_log}.here")
    reading.settimeout(10)
    proxy = Nginx(f"127.0.0.1:{server.port}", tmp_path / "nginx", media=Path(config["storage_path"]),
                  media_log=f"{media_log}.here")
    proxy.start()
    try:
        assert ask(proxy.port, path)[0] == 200
        assert ask(proxy.port, path, "HEAD")[0] == 200
        assert ask(proxy.port, path, Range=f"bytes={beyond}-{beyond + 99}")[0] in (206, 416)
        assert ask(proxy.port, path, Range="bytes=0-99", Referer="https://example.org/player")[0] == 206
        assert ask(proxy.port, path, Range="bytes=-100")[0] == 206  # the last bytes: the service decides
        assert ask(proxy.port, path, Range=f"bytes={beyond - 100}-")[0] in (206, 416)  # as many digits: sent
        lines = [json.loads(reading.recv(65536).split(b": ", 1)[1]) for _ in range(4)]
        reading.settimeout(1)
        with pytest.raises(TimeoutError):
            reading.recv(65536)  # nothing for the HEAD or the range further on
    finally:
        reading.close()
        proxy.stop()
        server.stop()
    assert [(line["m"], line["r"], line["e"]) for line in lines] == [
        ("GET", "", ""), ("GET", "bytes=0-99", "https://example.org/player"), ("GET", "bytes=-100", ""),
        ("GET", f"bytes={beyond - 100}-", "")]
    assert [line["s"] for line in lines[:3]] == ["200", "206", "206"]
    assert {(line["a"], line["u"], line["c"]) for line in lines} == {(CLIENT, APPLE, count)}
