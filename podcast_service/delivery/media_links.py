"""Public episode audio that nginx sends alone: links the service leaves in the media folder, per ten seconds.

nginx (deploy/nginx.conf) looks for `STORAGE/.published/WINDOW/CLASS/ID.EXT`
for a plain request (GET or HEAD with no query string or cookie) to
`/media/ID/NAME.EXT`. WINDOW is the clock's ten seconds (the Unix time
without its last digit: nginx reads it from `$msec`, the service from
`time.time()`), so nothing has to remove a link for nginx to stop using it.
Found, nginx sends the file the link points to, with its own ETag and
Last-Modified (the file's mtime and size: `models.web_etag`, and `leave`
sets the mtime to the file's `created_at`, so both equal what the service
sends). Not found, nginx passes the request to the service with
`X-Podcast-Media-Link: 1`; the service answers it (and counts it) and,
when nginx may send that file alone, leaves the link for the rest of the
window. An app's many ranges then cost the service one request per file
every ten seconds, and nginx no lookup at all: asking the service (or a
cache of its answers) for every range cost a fifth of what nginx sends a
second (bench/media.py).

A change that could withdraw a file, committed by any of the service's
processes (recent.py), drops every link at once (`forget_all`); one made
some other way stops within the window.

CLASS tells nginx which requests to report in `analytics_log_file` for
counting: `n` for a file not counted, else the number of digits of the
bytes that hold its first minute (counting.threshold), so that nginx
reports only the GETs that may start within them. Only 5 to 8 digits
(10 KB to 100 MB: the first minute at 1.3 kbps to 13 Mbps) have a class;
a file outside them is always sent by the service.

A second link, in `latest/`, is what nginx sends while the service does not
answer (gunicorn down or restarting): the last decision the service made.
It goes with `forget_all`, when the service answers 404 for the file
(`forget`), and when the file has not been asked for in
`KEEP_LATEST_SECONDS`.

Public feeds are left in the same windows, in a `feeds` folder of their
own (feed_files.py); `forget_all` and the sweep of past windows take them
too.
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
