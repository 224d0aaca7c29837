"""Counting behind the production setup: nginx (deploy/nginx.conf) sends the bytes, with X-Accel-Redirect or
alone from the link the service left (reporting each request in `analytics_log_file`), gunicorn
(gunicorn.conf.py) records each request once, and no log or table keeps the listener's address."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fixtures.analytics import APPLE
from fixtures.app import ROOT, wait_for
from fixtures.production import CLIENT, accel_demo, answer, answered_alone, ask, service_lines
from fixtures.services import Gunicorn, Nginx, app_environment
from sqlalchemy import select, update

from podcast_service.analytics import counting
from podcast_service.core.extensions import db
from podcast_service.delivery import media_links, nginx_log
from podcast_service.media.audio import probe
from podcast_service.models import Episode, MediaRequest, utcnow

pytestmark = pytest.mark.servers


def recorded_rows(app, at_least: int):
    """The recorded requests (method, range, listener) once there are `at_least`, else None."""
    with app.app_context():
        rows = db.session.execute(
            select(
                MediaRequest.method, MediaRequest.range_start, MediaRequest.range_end, MediaRequest.listener
            ).order_by(MediaRequest.id)
        ).all()
        db.session.remove()
    return [tuple(r) for r in rows] if len(rows) >= at_least else None


def sent_alone(port: int, path: str, links: Path, method: str = "GET", **headers: str):
    """An audio request nginx answers alone from the link the service left: (status, headers, body, made)."""
    public_id = path.split("/")[2]
    return answered_alone(port, path, lambda window: any((links / window).glob(f"*/{public_id}.*")), method, **headers)


def test_ranged_head_and_full_requests_through_nginx_are_each_recorded_once(tmp_path):
    config, app, path, stored, etag = accel_demo(tmp_path)
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
        assert ask(proxy.port, path, **{"If-None-Match": f'"{etag}"'})[0] == 304  # nothing delivered

        def recorded():
            with app.app_context():
                rows = db.session.execute(
                    select(MediaRequest.method, MediaRequest.range_start, MediaRequest.range_end).order_by(
                        MediaRequest.id
                    )
                ).all()
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
def media_log(tmp_path):
    """Where nginx writes its media log: inside the test's folder, which is searched for addresses afterwards."""
    (tmp_path / "run").mkdir()
    return str(tmp_path / "run" / "media.log")


def served_alone(tmp_path, media_log: str, lookup_seconds: int):
    """The demo behind nginx and gunicorn, with nginx's media log going to the service."""
    config, app, path, stored, etag = accel_demo(tmp_path)
    config.update(analytics_log_file=media_log, media_lookup_seconds=lookup_seconds)
    server = Gunicorn(app_environment(config), tmp_path)
    server.start()
    proxy = Nginx(
        f"127.0.0.1:{server.port}", tmp_path / "nginx", media=Path(config["storage_path"]), media_log=media_log
    )
    proxy.start()
    return app, path, stored, etag, server, proxy


def test_plain_requests_are_sent_by_nginx_alone_and_each_counted_once_from_its_log(tmp_path, media_log):
    app, path, stored, etag, server, proxy = served_alone(tmp_path, media_log, lookup_seconds=10)
    data, size, links = stored.read_bytes(), stored.stat().st_size, tmp_path / "media" / ".published"
    gets = []  # every GET made, each recorded once (by nginx's log or by the service)
    first_window = int(media_links.window(time.time()))
    try:
        status, alone, body, tries = sent_alone(proxy.port, path, links, Range="bytes=100-65635")
        gets += [("GET", 100, 65635)] * tries
        assert status == 206 and body == data[100:65636] and alone["Content-Range"] == f"bytes 100-65635/{size}"
        # A wrong name for the file reaches the service (no link has it), which answers 404 and leaves the
        # right name's links alone.
        public_id = path.split("/")[2]
        assert ask(proxy.port, f"/media/{public_id}/episode.ogg")[0] == 404
        assert list((links / "latest").glob(f"*/{public_id}.mp3"))
        status, _, body, _ = sent_alone(proxy.port, path, links, "HEAD")
        assert (status, body) == (200, b"")
        status, _, body, tries = sent_alone(proxy.port, path, links)
        gets += [("GET", 0, size - 1)] * tries
        assert (status, body) == (200, data)
        status, _, body, tries = sent_alone(proxy.port, path, links, Range="bytes=0-1")
        gets += [("GET", 0, 1)] * tries
        assert (status, body) == (206, data[:2])
        # nginx answers conditions itself: its validators are the service's.
        assert sent_alone(proxy.port, path, links, **{"If-None-Match": f'"{etag}"'})[0] == 304
        status, _, _, tries = sent_alone(proxy.port, path, links, Range="bytes=0-9", **{"If-Range": '"other"'})
        assert status == 200
        gets += [("GET", 0, 9)] * tries  # recorded as asked, as the service records it
        # A request that is not plain goes to the service, which answers (and counts) it itself, with the
        # same headers; a client's own link header is cleared on the way.
        status, through, body = answer(proxy.port, path, Cookie="theme=dark", **{"X-Podcast-Media-Link": "1"})
        assert status == 200 and body == data
        gets += [("GET", 0, size - 1)]
        assert ask(proxy.port, path + "?preview=not-a-key")[0] == 200  # served as a preview: not counted
        # The service saw one request per ten seconds (nginx's first of the window), the wrong name and the two
        # not plain.
        windows = int(media_links.window(time.time())) - first_window + 1
        wait_for(lambda: service_lines(server, "/media/") >= 4, what="four requests in gunicorn's log")
        assert service_lines(server, "/media/") <= windows + 3
        for name in (
            "ETag",
            "Last-Modified",
            "Content-Type",
            "Content-Disposition",
            "Cache-Control",
            "Access-Control-Allow-Origin",
            "Access-Control-Expose-Headers",
        ):
            assert alone[name] == through[name], name
        assert alone["ETag"] == f'"{etag}"' and alone["Content-Type"] == "audio/mpeg"
        rows = wait_for(lambda: recorded_rows(app, len(gets)), what="every GET recorded", logs=[server])
        assert sorted(r[:3] for r in rows) == sorted(gets)
        assert len({r[3] for r in rows}) == 1  # one listener, whichever process saw the address
        with app.app_context():
            assert sum(counting.tally(utcnow().date()).values()) == 1
            db.session.remove()
    finally:
        proxy.stop()
        server.stop()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p for p in written if CLIENT.encode() in p.read_bytes()] == []


def test_nginx_stops_sending_an_unpublished_episode_alone_and_keeps_sending_while_the_service_is_down(
    tmp_path, media_log
):
    app, path, stored, _, server, proxy = served_alone(tmp_path, media_log, lookup_seconds=1)
    try:
        assert ask(proxy.port, path, Range="bytes=0-99")[0] == 206
        server.stop()
        # The service is down: the link it left still serves plain requests (this window's, or the latest
        # once the window has turned); the others get a 503 that says when to retry.
        assert ask(proxy.port, path, Range="bytes=0-99") == (206, stored.read_bytes()[:100])
        links = tmp_path / "media" / ".published"
        for window in [d for d in links.iterdir() if d.name.isdigit()]:  # as the ten seconds turning would
            shutil.rmtree(window)
        assert ask(proxy.port, path, Range="bytes=0-99") == (206, stored.read_bytes()[:100])
        status, headers, _ = answer(proxy.port, path, Cookie="a=b")
        assert (status, headers.get("Retry-After")) == (503, "30")
        server.start()
        assert ask(proxy.port, path, Range="bytes=0-99")[0] == 206
        # What nginx sent while no reader ran waited in the log, and is counted now: nothing was lost.
        rows = wait_for(lambda: recorded_rows(app, 4), what="every GET recorded", logs=[server])
        assert [r[:3] for r in rows] == [("GET", 0, 99)] * 4
        with app.app_context():
            db.session.execute(update(Episode).values(published_at=utcnow() + timedelta(days=1)))
            db.session.commit()  # any process's commit drops every link at once
            db.session.remove()
        public_id = path.split("/")[2]
        assert list((tmp_path / "media" / ".published").glob(f"**/{public_id}.*")) == []
        # Within the second nginx trusts what it found: nginx asks the service, which asks the database (not
        # what it kept) before it leaves a link.
        wait_for(lambda: ask(proxy.port, path, Range="bytes=0-99")[0] == 404, what="a 404", logs=[server])
        assert [ask(proxy.port, path, method)[0] for method in ("GET", "HEAD")] == [404, 404]
        server.stop()
        wait_for(lambda: ask(proxy.port, path, Range="bytes=0-99")[0] == 503, what="no link left to send it from")
    finally:
        proxy.stop()
        server.stop()


def test_a_file_withdrawn_behind_the_services_back_stops_being_sent_alone_when_the_window_turns(tmp_path, media_log):
    """A change that no process of the service commits (a restore, an operator's SQL) cannot drop the links:
    nginx stops using them when their ten seconds are over."""
    app, path, _, _, server, proxy = served_alone(tmp_path, media_log, lookup_seconds=1)
    database = tmp_path / "db.sqlite"
    try:
        assert sent_alone(proxy.port, path, tmp_path / "media" / ".published")[0] == 200
        with sqlite3.connect(database) as connection:
            connection.execute("UPDATE episodes SET withdrawn_at = '2026-01-01 00:00:00'")
        wait_for(
            lambda: ask(proxy.port, path, Range="bytes=0-99")[0] == 404,
            what="a 404 once the window turned",
            timeout=3 * media_links.WINDOW_SECONDS,
            logs=[server],
        )
    finally:
        proxy.stop()
        server.stop()


def test_lines_the_service_cannot_use_are_skipped_and_the_next_ones_counted(tmp_path, media_log):
    app, path, _, _, server, proxy = served_alone(tmp_path, media_log, lookup_seconds=10)
    try:
        public_id = path.split("/")[2]
        good = (
            f'{{"t":"1795873386.5","m":"GET","s":"206","r":"bytes=0-9","a":"{CLIENT}","f":"","u":"{APPLE}",'
            f'"e":"","p":"/179587338/6/{public_id}.mp3"}}'
        )
        hostile = [
            b"garbage",
            b"{",
            b"[1]",
            good[: len(good) // 2].encode(),
            good.replace('"206"', '"416"').encode(),
            good.replace(public_id, "not-a-file").encode(),  # a file that does not exist
            good.replace(f"/{public_id}.mp3", "").encode(),
            good.replace('"t":"1795873386.5"', '"t":"1e400"').encode(),
            good.replace('"t":"1795873386.5"', '"t":"1e18"').encode(),  # a time no clock can say
            b"x" * (nginx_log.LONGEST_LINE * 2),
        ]  # no line of nginx's is that long
        with open(media_log, "ab") as log:  # as another writer with access to the file would
            log.write(b"\n".join(hostile) + b"\n" + b"\0" * 10 + good.encode() + b"\n")
        rows = wait_for(lambda: recorded_rows(app, 1), what="the good line recorded", logs=[server])
        assert [r[:3] for r in rows] == [("GET", 0, 9)]
        assert "Traceback" not in server.log_path.read_text()  # each line skipped alone, not its group
        assert ask(proxy.port, path, Range="bytes=0-99")[0] == 206  # the reader is still reading
        wait_for(lambda: recorded_rows(app, 2), what="the next request recorded", logs=[server])
    finally:
        proxy.stop()
        server.stop()


def test_the_service_reads_only_a_file_it_can_free_and_replaces_nothing(tmp_path):
    """A wrong setting must not delete or follow anything; the file is made for nginx and the service to share
    (0660), and the operator is told when it is not in memory."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "a-folder").mkdir()
    (folder / "elsewhere").symlink_to(tmp_path / "target")
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listening.bind(str(folder / "old.sock"))
    for wrong in ("a-folder", "elsewhere", "old.sock"):
        with pytest.raises(OSError, match="exists and is not a regular file"):
            nginx_log.prepare(str(folder / wrong))
    listening.close()
    assert not (tmp_path / "target").exists() and (folder / "old.sock").is_socket()
    with pytest.raises(OSError, match="cannot open .*/missing/media.log to read and free it"):
        nginx_log.prepare(str(folder / "missing" / "media.log"))
    log = folder / "media.log"
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\ntmpfs {folder} tmpfs rw 0 0\n")
    assert nginx_log.prepare(str(log), mounts) == []
    assert oct(log.stat().st_mode & 0o777) == "0o660"
    log.write_bytes(b"kept\n")
    log.chmod(0o600)
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0\n")
    [warning] = nginx_log.prepare(str(log), mounts)
    assert "is on ext4, not in memory" in warning
    assert log.read_bytes() == b"kept\n" and oct(log.stat().st_mode & 0o777) == "0o660"


def test_a_filesystem_that_cannot_free_what_was_read_is_refused(tmp_path, monkeypatch):
    """The file would grow without end, and a restarted reader would count every line again."""

    def unsupported(fd: int, start: int, length: int) -> None:
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(nginx_log, "_punch", unsupported)
    with pytest.raises(OSError, match="cannot free the lines read .*tmpfs"):
        nginx_log.prepare(str(tmp_path / "media.log"))


@pytest.fixture(params=["disk", "memory"])
def log_folder(request, tmp_path):
    """A folder on the test's own filesystem and one on tmpfs (/dev/shm), where the log is meant to be."""
    if request.param == "disk":
        return tmp_path
    folder = Path(tempfile.mkdtemp(dir="/dev/shm"))
    request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))
    return folder


def test_a_reader_takes_whole_lines_frees_them_and_the_next_reader_starts_after_them(log_folder):
    path = log_folder / "media.log"
    nginx_log.prepare(str(path))
    lines = [b'{"n":%d,"pad":"%s"}' % (n, b"x" * 300) for n in range(40)]
    with open(path, "ab") as writer:
        writer.write(b"\n".join(lines[:30]) + b"\n" + lines[30][:10])  # the last line not finished yet
    first = nginx_log.Tail(str(path))
    assert first.lines() == lines[:30] and first.lines() == []
    first.free()
    data = path.read_bytes()
    assert data[:-10] == bytes(len(data) - 10) and data[-10:] == lines[30][:10]  # read lines are gone
    assert os.stat(path).st_blocks * 512 < len(data)  # and take no room
    first.close()  # killed before the rest came
    with open(path, "ab") as writer:
        writer.write(lines[30][10:] + b"\n" + b"\n".join(lines[31:]) + b"\n")
    second = nginx_log.Tail(str(path))
    assert second.lines() == lines[30:]
    second.free()
    assert path.read_bytes() == bytes(path.stat().st_size)
    second.close()
    third = nginx_log.Tail(str(path))  # nothing left to read
    assert third.lines() == []
    third.close()


@pytest.mark.parametrize(
    ("trusted", "forwarded", "client"),
    [
        (1, "", "198.51.100.7"),
        (1, "203.0.113.9", "198.51.100.7"),
        (2, "203.0.113.9", "203.0.113.9"),
        (2, "192.0.2.1, 203.0.113.9", "203.0.113.9"),
        (2, "", "198.51.100.7"),
        (0, "203.0.113.9", "198.51.100.7"),
    ],
)
def test_the_listener_address_is_taken_as_the_service_takes_it(trusted, forwarded, client):
    """nginx's $remote_addr and the X-Forwarded-For it received, read with `trusted_proxies` as ProxyFix reads
    what nginx forwards (its own $remote_addr appended)."""
    assert nginx_log.Lines(None, trusted).client("198.51.100.7", forwarded) == client


def test_nginx_sends_each_stored_audio_format_with_the_type_the_service_gives_it():
    """The media location's own `types` block must name every format the service stores, as it names it."""
    site = (Path(__file__).parent.parent / "deploy" / "nginx.conf").read_text()
    block = site.split("types {", 1)[1].split("}", 1)[0]
    types = {line.split()[1].rstrip(";"): line.split()[0] for line in block.splitlines() if line.strip().endswith(";")}
    assert types == dict(probe.FORMATS.values())


def test_gunicorn_refuses_to_start_with_a_log_file_it_cannot_make(tmp_path):
    env = {
        **app_environment(
            {
                "database_url": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "analytics_log_file": str(tmp_path / "missing" / "media.log"),
                "secret_key": "tests-only-4f1d9a7c2b8e6035d1a9f7c3e5b2a8d0",
            }
        ),
        "PODCAST_BIND": "127.0.0.1:0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "podcast_service:create_app()"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert f"analytics_log_file: cannot open {tmp_path}/missing/media.log to read and free it" in done.stderr
    assert "Traceback" not in done.stderr


def test_when_the_reading_worker_is_killed_another_reads_on(tmp_path, media_log):
    """One worker reads the log at a time (a lock beside the file); killed outright, its lock goes with it, and
    the next reader starts after the lines the first freed: none is counted twice."""
    config, app, path, _, _ = accel_demo(tmp_path)
    config.update(analytics_log_file=media_log, media_lookup_seconds=10)
    server = Gunicorn(app_environment(config), tmp_path, workers=2)
    server.start()
    proxy = Nginx(
        f"127.0.0.1:{server.port}", tmp_path / "nginx", media=Path(config["storage_path"]), media_log=media_log
    )
    proxy.start()
    links = Path(config["storage_path"]) / ".published"
    try:
        status, _, _, tries = sent_alone(proxy.port, path, links, Range="bytes=0-99")
        assert status == 206
        gets = [("GET", 0, 99)] * tries
        wait_for(lambda: recorded_rows(app, len(gets)), what="the first request recorded", logs=[server])
        lock = os.stat(f"{media_log}.lock").st_ino
        [reader] = [
            int(line.split()[4])
            for line in Path("/proc/locks").read_text().splitlines()
            if "FLOCK" in line and "->" not in line and line.split()[5].endswith(f":{lock}")
        ]
        assert reader in server.worker_pids()
        os.kill(reader, signal.SIGKILL)
        wait_for(lambda: reader not in server.worker_pids(), what="the reader gone", logs=[server])
        status, _, _, tries = sent_alone(proxy.port, path, links, Range="bytes=100-199")
        assert status == 206
        gets += [("GET", 100, 199)] * tries
        wait_for(lambda: recorded_rows(app, len(gets)), what="the next request recorded", logs=[server])
        time.sleep(2 * nginx_log.POLL_SECONDS + 1)  # a reader that read the first line again has counted it by now
        assert sorted(r[:3] for r in recorded_rows(app, 0)) == sorted(gets)
    finally:
        proxy.stop()
        server.stop()


def test_nginx_reports_each_get_that_may_start_within_the_first_minute_and_nothing_else(tmp_path, media_log):
    """What nginx writes to the log, read here instead of by gunicorn: one JSON line per GET it answered
    alone whose range may start within the threshold (a start with no more digits), none for a HEAD or a range
    further on."""
    config, app, path, stored, _ = accel_demo(tmp_path)
    config.update(analytics_log_file=media_log, media_lookup_seconds=10)
    with app.app_context():
        audio = db.session.scalars(select(Episode)).one().audio
        threshold = counting.threshold(audio.size, audio.duration, audio.bitrate)
        db.session.remove()
    digits = len(str(threshold))
    beyond = 10**digits  # the smallest start with more digits than the threshold
    server = Gunicorn(app_environment(config), tmp_path)
    server.start()
    proxy = Nginx(
        f"127.0.0.1:{server.port}",
        tmp_path / "nginx",
        media=Path(config["storage_path"]),
        media_log=f"{media_log}.here",
    )
    proxy.start()
    links = Path(config["storage_path"]) / ".published"
    try:
        assert sent_alone(proxy.port, path, links)[0] == 200
        assert sent_alone(proxy.port, path, links, "HEAD")[0] == 200
        assert sent_alone(proxy.port, path, links, Range=f"bytes={beyond}-{beyond + 99}")[0] in (206, 416)
        assert sent_alone(proxy.port, path, links, Range="bytes=0-99", Referer="https://example.org/player")[0] == 206
        assert sent_alone(proxy.port, path, links, Range="bytes=-100")[0] == 206  # the last bytes: the service decides
        assert sent_alone(proxy.port, path, links, Range=f"bytes={beyond - 100}-")[0] in (206, 416)  # as many digits
    finally:
        proxy.stop()  # nginx writes what it holds as it stops
        server.stop()
    # A request made again when the ten seconds turned may be reported twice.
    lines = [json.loads(line) for line in Path(f"{media_log}.here").read_bytes().splitlines()]
    assert {(line["m"], line["r"], line["e"]) for line in lines} == {
        ("GET", "", ""),
        ("GET", "bytes=0-99", "https://example.org/player"),
        ("GET", "bytes=-100", ""),
        ("GET", f"bytes={beyond - 100}-", ""),
    }
    assert {line["s"] for line in lines if line["r"] in ("", "bytes=0-99")} == {"200", "206"}
    assert {(line["a"], line["u"]) for line in lines} == {(CLIENT, APPLE)}
    assert {line["p"].split("/", 2)[2] for line in lines} == {f"{digits}/{path.split('/')[2]}.mp3"}
