"""Spool files: where uploads and import downloads wait on disk before they are probed and stored.

Each spool is deleted when its request or import ends. A process killed in
the middle (an OOM kill, a worker timeout, a crash) leaves its spool behind,
possibly gigabytes. So every spool holds an exclusive lock (flock) for as
long as its process has it open: the kernel drops the lock when the process
dies, which tells a live spool from an abandoned one without guessing from
its age. Abandoned spools are removed when the server starts (gunicorn.conf.py)
and, at most every SWEEP_SECONDS, when a process opens a new spool: spools
live on the machine that received the upload, where no job worker may run.
`flask storage-check` reports them and `--fix` removes them.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

from .errors import PodcastServiceError, StorageError

log = logging.getLogger(__name__)
PREFIXES = ("upload-", "import-")


class DiskFull(StorageError):
    """No space left where the file was being written; the message names no server path."""

    def __init__(self) -> None:
        super().__init__("The server's disk is full; the file cannot be received now. Try again later.")

    for_client = PodcastServiceError.for_client  # its message names no path: the client may read it


def disk_full(e: OSError) -> bool:
    return e.errno in (errno.ENOSPC, errno.EDQUOT)


# How often a process looks for abandoned spools as it opens a new one; and how old an unlocked spool must be
# for that look to remove it (a spool is locked a moment after it is made).
SWEEP_SECONDS = 300
SWEEP_GRACE = timedelta(minutes=1)
_last_sweep = {"at": 0.0}


def open_spool(folder: Path, prefix: str) -> IO[bytes]:
    """A new named temporary file in `folder`, locked while this process holds it, deleted on close."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown spool prefix {prefix!r}")
    folder.mkdir(parents=True, exist_ok=True)
    if time.monotonic() - _last_sweep["at"] >= SWEEP_SECONDS:
        _last_sweep["at"] = time.monotonic()
        remove_abandoned(folder, SWEEP_GRACE)
    spool = tempfile.NamedTemporaryFile(dir=folder, prefix=prefix, delete=True)  # noqa: SIM115  (the caller closes it)
    fcntl.flock(spool.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    return spool


@dataclass(frozen=True)
class AbandonedSpool:
    path: Path
    size: int
    age: timedelta


def _unlocked(path: Path) -> bool:
    """Whether no live process holds the spool (taking its lock for a moment to find out)."""
    try:
        with path.open("rb") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
    except BlockingIOError:
        return False
    except FileNotFoundError:
        return False


def abandoned(folder: Path, grace: timedelta = timedelta(0)) -> list[AbandonedSpool]:
    """Spools in `folder` whose process is gone, last written more than `grace` ago."""
    if not folder.is_dir():
        return []
    now, found = time.time(), []
    for path in sorted(folder.iterdir()):
        if not path.name.startswith(PREFIXES) or not path.is_file():
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        age = timedelta(seconds=now - stat.st_mtime)
        if age >= grace and _unlocked(path):
            found.append(AbandonedSpool(path, stat.st_size, age))
    return found


def remove_abandoned(folder: Path, grace: timedelta = timedelta(0)) -> list[AbandonedSpool]:
    """Delete the abandoned spools; returns what was removed."""
    removed = []
    for spool in abandoned(folder, grace):
        spool.path.unlink(missing_ok=True)
        log.info("removed abandoned spool %s (%d bytes)", spool.path.name, spool.size)
        removed.append(spool)
    return removed
