"""Counting the enclosure requests nginx answers alone, from the lines its media log writes for the service.

With `analytics_log_file` set, nginx reports each GET of public audio that
may count as a JSON line in a buffered log file. One worker at a time (a lock
beside the file) reads the new lines twice a second, records them as the media
route records what it answers (`recorder.add_request`), and frees the bytes it
read (fallocate's punch hole): the file keeps no address once read, and a
reader started after a restart begins at the first byte not freed. A line for
a file no longer published is not counted; an unreadable line is skipped and
logged. Why a file and not a socket, and the figures: docs/architecture.md.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import logging
import os
import re
import stat
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
from flask import Flask
from werkzeug.exceptions import NotFound

from ..analytics import counting
from ..analytics.recorder import Recorder, add_request, counted_span, recorder
from ..core import background
from ..core.extensions import db
from ..core.settings import current_settings
from .lookups import Found, counted_audio, public_media_or_404

log = logging.getLogger(__name__)

DELIVERED = frozenset({"200", "206"})
# How long the reader waits when it finds no new line (nginx writes its buffer within a second: flush=1s).
POLL_SECONDS = 0.5
# How long the reader waits when the file cannot be opened or read (removed, wrong owner).
RETRY_SECONDS = 10
# The most read at once; more waits for the next turn.
CHUNK = 1024 * 1024
# An unfinished line longer than this is not one of nginx's (its lines are a few hundred bytes): dropped.
LONGEST_LINE = 64 * 1024
# fallocate(2): free a range of a file, leaving its size as it is.
_PUNCH_HOLE = 0x02 | 0x01  # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
_libc = ctypes.CDLL(None, use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
# Where prepare() checks that the filesystem can free bytes: past the end of the file, so no line is touched.
PROBE_BEYOND = 1 << 30
_IN_MEMORY = frozenset({"tmpfs", "ramfs"})
_ESCAPED = re.compile(r"\\([0-7]{3})")


def _punch(fd: int, start: int, length: int) -> None:
    """Free a range of the file: it reads as zeros and takes no room."""
    if _libc.fallocate(fd, _PUNCH_HOLE, start, length) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def prepare(path: str, mounts: Path = Path("/proc/self/mounts")) -> list[str]:
    """Make sure the media log is a file the service can read and free, before any worker reads it; what to
    tell the operator.

    The file is made if missing (0660: nginx's master opens it as root; on a
    reopen nginx gives it to its own user and keeps the group's rights). Any
    other kind of file at the path (a socket, a symlink, a folder) is
    refused, not replaced, so a wrong setting deletes nothing; so is a
    filesystem that cannot free a file's bytes, where the file would grow
    without end and every line would be counted again after a restart.
    """
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        mode = None  # missing (made below), or out of reach (opening it below says why)
    if mode is not None and not stat.S_ISREG(mode):
        raise OSError(f"analytics_log_file: {path} exists and is not a regular file")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o660)
    except OSError as e:
        raise OSError(
            f"analytics_log_file: cannot open {path} to read and free it: {e.strerror} (make it "
            "before nginx starts, as the service's user, or give it to the service's group with "
            "mode 0660)"
        ) from e
    try:
        made = os.fstat(fd)
        if made.st_uid == os.geteuid() and made.st_mode & 0o777 != 0o660:  # whatever the umask
            os.fchmod(fd, 0o660)
        _punch(fd, made.st_size + PROBE_BEYOND, 1)  # far past the end, where nginx writes nothing yet
    except OSError as e:
        raise OSError(
            f"analytics_log_file: the filesystem of {path} cannot free the lines read ({e.strerror}); "
            "put the file on tmpfs, such as /run/podcast/"
        ) from e
    finally:
        os.close(fd)
    kind = filesystem(path, mounts)
    if kind is not None and kind not in _IN_MEMORY:
        return [
            f"analytics: {path} is on {kind}, not in memory: lines hold listeners' addresses until they are "
            "read (longer while gunicorn is stopped), and would reach the disk; put the file on tmpfs, such "
            "as /run/podcast/"
        ]
    return []


def filesystem(path: str, mounts: Path = Path("/proc/self/mounts")) -> str | None:
    """The type of the filesystem holding `path` (the longest mount point above it); None if unknown."""
    where = os.path.realpath(path)
    best, kind = "", None
    try:
        table = mounts.read_text()
    except OSError:
        return None
    for entry in table.splitlines():
        fields = entry.split()
        if len(fields) < 3:
            continue
        point = _ESCAPED.sub(lambda m: chr(int(m[1], 8)), fields[1])  # a space is written \040
        inside = point == "/" or where == point or where.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def init_app(app: Flask) -> None:
    """With `analytics_log_file` set, this app's processes read the log (background.py starts the reader)."""
    path = current_settings(app).analytics_log_file
    if path:
        background.register(app, lambda: start(app, path))


def start(app: Flask, path: str) -> threading.Thread:
    """Read the log in a thread of this process, for as long as the process lives, while no other worker
    does.

    One reader at a time: two would read the same lines. The others wait on a
    lock beside the file; when the reading worker exits or is killed, the
    kernel frees its lock and one of them reads on, from the first line
    its predecessor did not free.
    """
    thread = threading.Thread(target=_read_alone, args=(app, path), name="media-log-reader", daemon=True)
    thread.start()
    return thread


def _read_alone(app: Flask, path: str) -> None:
    try:
        lock = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX)
    except OSError as e:
        log.error("analytics: cannot take %s.lock (%s); nginx's media log is not read by this worker", path, e.strerror)
        return
    _read(app, path)


class Tail:
    """The part of the log no reader has taken yet: whole lines from the first byte not freed, then freed."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        self.offset = self._first_unfreed()
        self.pending = b""  # a line nginx has not finished writing

    def _first_unfreed(self) -> int:
        try:
            return os.lseek(self.fd, 0, os.SEEK_DATA)
        except OSError as e:
            if e.errno != errno.ENXIO:
                raise
            return os.fstat(self.fd).st_size  # nothing unread

    def lines(self) -> list[bytes]:
        """The whole lines written since the last call (empty if none yet)."""
        chunk = os.pread(self.fd, CHUNK, self.offset)
        if not chunk:
            return []
        self.offset += len(chunk)
        done, _, self.pending = (self.pending + chunk).rpartition(b"\n")
        lines = [line.lstrip(b"\0") for line in done.split(b"\n") if line.strip(b"\0")]
        if len(self.pending) > LONGEST_LINE:  # given as it is, to be found unreadable
            lines.append(self.pending)
            self.pending = b""
        return lines

    def free(self) -> None:
        """Free every line returned so far."""
        end = self.offset - len(self.pending)
        if end > 0:
            _punch(self.fd, 0, end)

    def replaced(self) -> bool:
        """Whether the path now names another file (an operator removed or replaced it), so nginx will write
        there once it reopens its logs."""
        try:
            now, mine = os.stat(self.path), os.fstat(self.fd)
        except FileNotFoundError:
            return False  # nothing to read elsewhere yet
        return (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino)

    def close(self) -> None:
        os.close(self.fd)


class Lines:
    """Turns nginx's lines into recorded requests, and keeps track of those it could not read."""

    def __init__(self, rec: Recorder, trusted_proxies: int) -> None:
        self.rec = rec
        self.trusted = max(1, trusted_proxies)  # nginx itself is the first
        self.unreadable = 0
        self._said = time.monotonic()

    def take(self, text: bytes) -> bool:
        """Record the request a line reports if it can add to a download; False: the line could not be read."""
        try:
            line = orjson.loads(text)
            if line["s"] not in DELIVERED:
                return True
            public_id = line["p"].rsplit("/", 1)[1].split(".", 1)[0]
            found = counted_file(public_id)
            if found is None:
                return True
            file = found.file
            threshold = counting.threshold(file.size, file.duration, file.bitrate)
            span = counted_span(line["m"], line["r"] or None, file.size, threshold)
            if span is not None and found.episode_id is not None:
                add_request(
                    self.rec,
                    address=self.client(line["a"], line["f"]),
                    user_agent=line["u"],
                    span=span,
                    referrer=line["e"] or None,
                    at=datetime.fromtimestamp(float(line["t"]), UTC),
                    episode_id=found.episode_id,
                    media_id=file.id,
                    file_size=file.size,
                    threshold=threshold,
                    private=False,
                )
            return True
        except (ValueError, KeyError, IndexError, TypeError, AttributeError, OverflowError, OSError):
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


def _read(app: Flask, path: str) -> None:
    lines = Lines(recorder(app), current_settings(app).trusted_proxies)
    tail = None
    with app.app_context():  # for the day's salt, read from the database once a day
        while True:
            try:
                tail = tail or Tail(path)
                group = tail.lines()
                if not group and not tail.pending and tail.replaced():
                    tail.close()
                    tail = None
                    log.warning("analytics: %s was replaced; reading the new file", path)
                    continue
            except OSError as e:
                log.error("analytics: cannot read %s (%s); trying again in %d s", path, e.strerror, RETRY_SECONDS)
                time.sleep(RETRY_SECONDS)
                continue
            if not group:
                lines.report()
                time.sleep(POLL_SECONDS)
                continue
            try:
                for line in group:
                    lines.take(line)
                lines.report()
            except Exception:
                log.exception("analytics: %d lines from nginx's media log not recorded", len(group))
            finally:
                db.session.remove()  # a connection the salt took goes back to the pool
            try:
                tail.free()
            except OSError as e:
                log.error("analytics: cannot free what was read of %s (%s)", path, e.strerror)
