"""Public episode audio that nginx sends alone: links the service leaves in the media folder, per ten seconds.

`leave` puts a link to a stored file in `STORAGE/.published/WINDOW/CLASS/ID.EXT`
(and in `latest/`, what nginx sends while the service cannot answer); `forget`
drops one file's links, `forget_windows` every window's (a commit that could
withdraw a file); `keep_only` drops what is kept for outages (latest links,
feeds' versions) once it is no longer public; past windows and unused
`latest/` links are swept. The design, the classes and what nginx does with
them: docs/architecture.md (the ten-second publication).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from flask import has_app_context
from sqlalchemy.exc import SQLAlchemyError

from ..core import changes
from ..core.settings import current_settings
from . import lookups

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


def forget_windows(root: Path) -> None:
    """Drop every window's links at once (media and feeds): nginx asks the service again for each, and each
    answer rests on the database as it is now. What is kept for outages (`latest/`, the feeds' versions)
    stays."""
    links = root / FOLDER
    try:
        windows = [Path(entry.path) for entry in os.scandir(links) if entry.name.isdigit()]
    except FileNotFoundError:
        return
    except OSError as e:
        log.warning("cannot drop nginx's links in %s: %s", links, e.strerror)
        return
    for folder in windows:
        drop(root, folder)


def kept(folder: Path, pattern: str) -> dict[str, list[Path]]:
    """The files in `folder` matching `pattern`, by the name before their first dot (a public id, a slug)."""
    found: dict[str, list[Path]] = {}
    for path in folder.glob(pattern):
        found.setdefault(path.name.split(".", 1)[0], []).append(path)
    return found


def keep_only(kept: dict[str, list[Path]], public: Callable[[set[str]], set[str]]) -> None:
    """Drop the kept files of names no longer public (`public(names)` says which still are); if that cannot be
    asked, all of them: what was withdrawn must not stay behind for the next outage."""
    if not kept:
        return
    try:
        still = public(set(kept))
    except SQLAlchemyError as e:
        log.warning("cannot tell which files kept for outages are still public, dropping them all: %s", e)
        still = set()
    for name in set(kept) - still:
        for path in kept[name]:
            path.unlink(missing_ok=True)


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


@changes.after_commit("media")
def _media_changed(_: set) -> None:
    """A committed change to a show, an episode or a file (delivery/recent.py notes them): nginx asks again
    for every file, and keeps for outages only what is still public."""
    if has_app_context():
        root = current_settings().storage_path
        forget_windows(root)
        keep_only(kept(root / FOLDER / LATEST, "*/*"), lookups.public_among)
