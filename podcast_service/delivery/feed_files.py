"""Public feeds that nginx sends alone: files the service leaves beside the media links, per ten seconds.

`leave` writes a feed's version once (`.published/feeds/SLUG.xml` and `.xml.gz`)
and links it into the current window, unless a change overtook the build or a
scheduled episode goes live within the window. A change to any feed drops every
window's links once it commits, so nginx asks the service again; the last
version of each feed stays for nginx to send while the service cannot answer,
until a newer one replaces it or the show stops being public. The design:
docs/architecture.md (the ten-second publication).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from flask import has_app_context
from sqlalchemy import select

from ..core import changes
from ..core.extensions import db
from ..core.settings import current_settings
from ..models import Show
from . import media_links

log = logging.getLogger(__name__)

HEADER = "X-Podcast-Feed-Link"
FEEDS = "feeds"
SLUG = re.compile(r"[A-Za-z0-9_-]+")  # as nginx's feed location takes it


def leave(
    root: Path,
    slug: str,
    last_modified: datetime,
    valid_until: datetime | None,
    body: bytes,
    gzipped: bytes,
    *,
    mode: int,
    still_current: Callable[[], bool],
    now: float | None = None,
) -> None:
    """Leave this version of the feed for nginx to send for the rest of the window.

    `still_current()` says whether no change was committed meanwhile; if one
    was, what was left goes again. Failures are logged, never raised:
    without the files the service goes on answering the polls itself.
    """
    now = time.time() if now is None else now
    window_ends = (int(media_links.window(now)) + 1) * media_links.WINDOW_SECONDS
    if not SLUG.fullmatch(slug) or (valid_until is not None and valid_until.timestamp() <= window_ends):
        return
    links = root / media_links.FOLDER
    try:
        current = links / FEEDS
        current.mkdir(parents=True, exist_ok=True)
        stamp = int(last_modified.timestamp())
        for name, data in zip(_names(slug), (gzipped, body)):
            _write(current / name, data, stamp, mode)
        folder = links / media_links.window(now) / FEEDS
        media_links.new_window(links, folder, now)
        for name in _names(slug):
            media_links.link(folder / name, current / name)
    except OSError as e:
        log.warning("cannot leave the feed %s for nginx in %s: %s", slug, links, e.strerror)
    if not still_current():
        forget(root, slug)


def _names(slug: str) -> tuple[str, str]:
    """A feed's gzipped and plain file, in the order they are left: nginx finding the plain file but not yet
    the .gz would send plain bytes to an app that asked for gzip, with another ETag than the service's."""
    return f"{slug}.xml.gz", f"{slug}.xml"


def _write(path: Path, data: bytes, stamp: int, mode: int) -> None:
    """This version's bytes at `path`, dated `stamp`, unless they are there already (the same date and size:
    each version has a later date than the one before, feed/cache.py).

    Written beside and renamed into place, so nginx never finds half a file.
    A process that answers an older version than another just left has its
    files dropped by `leave`'s second look at the generation.
    """
    try:
        there = path.stat()
    except FileNotFoundError:
        there = None
    if there is not None and (int(there.st_mtime), there.st_size) == (stamp, len(data)):
        return
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        with open(temp, "wb") as out:
            os.fchmod(out.fileno(), mode)
            out.write(data)
        os.utime(temp, (stamp, stamp))
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise


def forget(root: Path, slug: str) -> None:
    """Drop one feed's files: its version and every window's links to it."""
    if not SLUG.fullmatch(slug):
        return
    links = root / media_links.FOLDER
    for name in _names(slug):
        for path in (*links.glob(f"*/{FEEDS}/{name}"), links / FEEDS / name):
            path.unlink(missing_ok=True)


def _public(slugs: set[str]) -> set[str]:
    """Which of these shows are public. On a connection of its own: the session that committed can say nothing
    more."""
    with db.engine.connect() as connection:
        return set(connection.scalars(select(Show.slug).where(Show.slug.in_(slugs), Show.private.is_(False))))


@changes.after_commit("feeds")
def _feeds_changed(_shows: set[int]) -> None:
    """A committed change to a feed: nginx asks the service again for every feed this window (the links are
    cheap to make again), and keeps for outages the last version of every feed still public."""
    if has_app_context():
        root = current_settings().storage_path
        media_links.forget_windows(root)
        media_links.keep_only(media_links.kept(root / media_links.FOLDER / FEEDS, "*.xml*"), _public)
