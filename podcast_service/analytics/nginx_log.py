"""Counting the enclosure requests nginx answers alone, from the log lines it sends the service.

With `analytics_log_socket` set, nginx (deploy/nginx.conf) sends a public
episode's audio itself from the link the service left for it
(web/media_links.py), so the service no longer sees each range an app asks
for. nginx reports the requests that may count instead (GETs whose range
may start within the first minute: deploy/nginx.conf's map, from the link's
folder), one JSON line each, written by its `syslog:` access log to a Unix
datagram socket.
gunicorn's master binds that socket before it forks (gunicorn.conf.py); a
thread in one worker at a time reads lines and records them as the media
route records what it answers (recorder.add_request). A line's address
lives only in memory, as a request's does: no file keeps it.

A line names the link nginx sent (`/WINDOW/CLASS/ID.EXT`); the file and
the episode it counts for are found as the media route finds them, from
the public id, and kept as long (web/recent.py), so most lines ask the
database nothing. A line for a file no longer published is not counted. A
line that cannot be read (cut at nginx's 2 KB syslog limit, or sent by
something else with access to the socket) is skipped, and the skips are
logged once a minute at most.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import stat
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
from flask import Flask
from werkzeug.exceptions import NotFound

from ..extensions import db
from ..web.lookups import Found, counted_audio, public_media_or_404
from . import counting
from .recorder import Recorder, add_request, counted_span, recorder

log = logging.getLogger(__name__)

# Room for bursts while the reader is not running (the kernel caps it at net.core.rmem_max).
RECEIVE_BUFFER = 8 * 1024 * 1024
# Lines read in one go before they are taken.
GROUP = 500
DELIVERED = frozenset({"200", "206"})
MIN_QUEUE = 1024


def bind(path: str) -> socket.socket:
    """The socket nginx writes to, bound by the process that forks the readers.

    A socket left by a killed server is replaced; one another server still
    reads is refused (the two would share the lines), and so is any other
    file at the path, which a wrong setting must not delete. nginx's workers
    write as their own user: the socket is group-writable, as the media
    files are group-readable (nginx's user belongs to the service's group).
    """
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise OSError(f"analytics_log_socket: {path} exists and is not a socket")
        if _in_use(path):
            raise OSError(f"analytics_log_socket: another process reads {path}")
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.bind(path)
        os.chmod(path, 0o660)
    except OSError as e:
        sock.close()
        raise OSError(f"analytics_log_socket: cannot make {path}: {e.strerror}") from e
    return sock


def queue_warning(setting: Path = Path("/proc/sys/net/unix/max_dgram_qlen")) -> str | None:
    """What to tell the operator when the kernel lets too few lines wait for a reader.

    Linux keeps at most `net.unix.max_dgram_qlen` datagrams (10 by default)
    waiting on a Unix socket; nginx drops the lines that find it full,
    silently. A busy server (thousands of requests a second) needs room for
    the moments its reader is not running: bench/media.py lost about a
    fifth of the lines at 10, a few hundredths at 1024.
    """
    try:
        waiting = int(setting.read_text())
    except (OSError, ValueError):
        return None
    if waiting >= MIN_QUEUE:
        return None
    return (f"analytics: the kernel lets only {waiting} lines of nginx's media log wait (net.unix.max_dgram_qlen); "
            f"under load nginx drops the others and they are not counted. Raise it before starting gunicorn: "
            f"sysctl -w net.unix.max_dgram_qlen={MIN_QUEUE} (and in /etc/sysctl.d/)")


def _in_use(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        probe.connect(path)
        return True
    except ConnectionRefusedError:
        return False
    finally:
        probe.close()


def start(app: Flask, sock: socket.socket) -> threading.Thread:
    """Read the socket in a thread of this process, for as long as the process lives, while no other
    worker does.

    One reader at a time: several would each wake for a line or two, and
    cost twice as much a line as one that reads them in groups. The others
    wait on a lock beside the socket; when the reading worker exits or is
    killed, the kernel frees its lock and one of them reads on.
    """
    thread = threading.Thread(target=_read_alone, args=(app, sock), name="media-log-reader", daemon=True)
    thread.start()
    return thread


def _read_alone(app: Flask, sock: socket.socket) -> None:
    path = sock.getsockname()
    try:
        lock = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX)
    except OSError as e:
        log.error("analytics: cannot take %s.lock (%s); this worker reads the media log alongside others",
                  path, e.strerror)
    _read(app, sock)


class Lines:
    """Turns nginx's lines into recorded requests, and keeps track of those it could not read."""

    def __init__(self, rec: Recorder, trusted_proxies: int) -> None:
        self.rec = rec
        self.trusted = max(1, trusted_proxies)  # nginx itself is the first
        self.unreadable = 0
        self._said = time.monotonic()

    def take(self, datagram: bytes) -> bool:
        """Record the request a line reports if it can add to a download; False: the line could not be read."""
        try:
            line = orjson.loads(datagram[datagram.index(b"{"):])
            if line["s"] not in DELIVERED:
                return True
            public_id = line["p"].rsplit("/", 1)[1].split(".", 1)[0]
            found = counted_file(public_id)
            if found is None:
                return True
            file = found.file
            threshold = counting.threshold(file.size, file.duration, file.bitrate)
            span = counted_span(line["m"], line["r"] or None, file.size, threshold)
            if span is not None:
                add_request(self.rec, address=self.client(line["a"], line["f"]), user_agent=line["u"], span=span,
                            referrer=line["e"] or None, at=datetime.fromtimestamp(float(line["t"]), UTC),
                            episode_id=found.episode_id, media_id=file.id, file_size=file.size,
                            threshold=threshold, private=False)
            return True
        except (ValueError, KeyError, IndexError, TypeError, AttributeError, OverflowError):
            self.unreadable += 1
            return False

    def client(self, remote: str, forwarded: str) -> str:
        """The listener's address, as the service takes it from X-Forwarded-For (`trusted_proxies`)."""
        chain = [part.strip() for part in forwarded.split(",") if part.strip()] + [remote]
        return chain[-self.trusted] if len(chain) >= self.trusted else remote

    def report(self) -> None:
        if self.unreadable and time.monotonic() - self._said >= 60:
            log.warning("analytics: %d lines from nginx's media log could not be read", self.unreadable)
            self.unreadable = 0
            self._said = time.monotonic()


def counted_file(public_id: str) -> Found | None:
    """The file a line names and the episode it counts for, as the media route finds them; None: not published,
    or not counted."""
    try:
        found = public_media_or_404(public_id)
    except NotFound:
        return None
    return found if counted_audio(found) else None


def _read(app: Flask, sock: socket.socket) -> None:
    lines = Lines(recorder(app), app.config["PODCAST"].trusted_proxies)
    with app.app_context():  # for the day's salt, read from the database once a day
        while True:
            try:
                group = [sock.recv(65536)]
                while len(group) < GROUP:
                    group.append(sock.recv(65536, socket.MSG_DONTWAIT))
            except BlockingIOError:
                pass
            except OSError:  # the socket was closed: the process is going away
                return
            try:
                for datagram in group:
                    lines.take(datagram)
                lines.report()
            except Exception:  # noqa: BLE001  (a failure here loses these lines, never the reader)
                log.exception("analytics: %d lines from nginx's media log not recorded", len(group))
            finally:
                db.session.remove()  # a connection the salt took goes back to the pool
