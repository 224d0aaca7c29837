"""Public episode audio that nginx sends alone: links the service leaves in the media folder, per ten seconds.

`leave` puts a link to a stored file in `STORAGE/.published/WINDOW/CLASS/ID.EXT`
(and in `latest/`, what nginx sends while the service is down); `forget` drops
one file's links, `forget_all` every link (a commit that could withdraw a file);
past windows and unused `latest/` links are swept. The design, the classes and
what nginx does with them: docs/architecture.md (the ten-second publication).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER = ".published"
LATEST = "latest"
HEADER = "X-Podcast-Media-Link"
WINDOW_SECONDS = 10  # nginx's map drops the last digit of $msec's seconds
KEEP_LATEST_SECONDS = 600
NOT_COUNTED = "n"
CLASS_DIGITS = range(5, 9)
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]+")  # as nginx's media location takes it


def link_class(threshold: int | None) -> str | None:
    """The folder that tells nginx what to report (None: counted, but not in a way nginx can filter)."""
    if threshold is None:
        return NOT_COUNTED
    digits = len(str(threshold))
    return str(digits) if digits in CLASS_DIGITS else None


def window(now: float) -> str:
    return str(int(now) // WINDOW_SECONDS)


def leave(root: Path, stored: Path, name: str, created_at: datetime, kind: str, now: float | None = None) -> None:
    """Link `name` (ID.EXT) to the stored file for this window and as the latest decision.

    Failures are logged, never raised: without the link the service goes on
    answering the requests itself.
    """
    now = time.time() if now is None else now
    links = root / FOLDER
    try:
        stamp = int(created_at.timestamp())
        if int(stored.stat().st_mtime) != stamp:
            os.utime(stored, (stamp, stamp))
        folder = links / window(now) / kind
        new_window(links, folder, now)
        for place in (folder, links / LATEST / kind):
            link(place / name, stored)
    except OSError as e:
        log.warning("cannot leave %s for nginx in %s: %s", name, links, e.strerror)


def new_window(links: Path, folder: Path, now: float) -> None:
    """Make this window's `folder` (in `links`); whoever makes the window's first sweeps the past ones."""
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            _sweep(links, now)
        except OSError as e:  # another process sweeping at the same moment: the next window's sweep
            log.info("sweeping %s: %s", links, e.strerror)


def link(path: Path, target: Path) -> None:
    """A link at `path` to `target`, made beside and renamed into place: nginx never finds half a link, and
    two processes may race."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    temp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(target, path.parent), temp)
    os.replace(temp, path)


def _sweep(links: Path, now: float) -> None:
    """Past windows, and latest links not renewed in KEEP_LATEST_SECONDS: once per window, by whoever opens it."""
    current = int(window(now))
    for entry in os.scandir(links):
        if entry.name.isdigit() and int(entry.name) < current:
            shutil.rmtree(entry.path, ignore_errors=True)
    latest = links / LATEST
    if latest.is_dir():
        for folder in os.scandir(latest):
            for link in os.scandir(folder.path):
                if link.stat(follow_symlinks=False).st_mtime < now - KEEP_LATEST_SECONDS:
                    Path(link.path).unlink(missing_ok=True)


def forget(root: Path, public_id: str) -> None:
    """Drop one file's links (the service found it withdrawn). An id that is no file's (a pattern, a path)
    drops nothing."""
    if not PUBLIC_ID.fullmatch(public_id):
        return
    for found in (root / FOLDER).glob(f"*/[{NOT_COUNTED}{CLASS_DIGITS[0]}-{CLASS_DIGITS[-1]}]/{public_id}.*"):
        found.unlink(missing_ok=True)


def forget_all(root: Path) -> None:
    """Drop every link at once: nginx asks the service again for each file (and each feed)."""
    drop(root, root / FOLDER)


def drop(root: Path, folder: Path) -> None:
    """Take `folder` (within `root`) away at once, renamed beside `root`'s links, then delete it."""
    gone = root / f"{FOLDER}-gone-{uuid.uuid4().hex}"
    try:
        os.rename(folder, gone)
    except FileNotFoundError:
        return
    except OSError as e:
        log.warning("cannot drop nginx's links in %s: %s", folder, e.strerror)
        return
    shutil.rmtree(gone, ignore_errors=True)
