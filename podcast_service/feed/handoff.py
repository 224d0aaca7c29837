"""A feed's cached bytes as files that nginx sends itself, with `accel_redirect` set.

The service still decides everything (which version is current, 304s, the
validators and caching headers); only the bytes go out through nginx, read
from the media folder's `.feeds/` (outside every storage key) through the
same internal location as the media. Each version is written once per
machine, plain and gzipped (nginx's gzip_static picks the one the client
accepts), with its Last-Modified as the file's time.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from . import cache

FOLDER = ".feeds"
# Older versions stay this long, for requests that nginx is still answering with them.
KEEP_OLD_SECONDS = 300


def _write(path: Path, data: bytes, mode: int, mtime: float) -> None:
    """Atomically, so nginx never sends half a file."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as tmp:
        tmp.write(data)
    os.chmod(tmp.name, mode)
    os.utime(tmp.name, (mtime, mtime))
    os.replace(tmp.name, path)


def _prune(folder: Path, show_id: int, current: str) -> None:
    cutoff = time.time() - KEEP_OLD_SECONDS
    for old in folder.glob(f"{show_id}-*.xml*"):
        if not old.name.startswith(current):
            try:
                if old.stat().st_ctime < cutoff:
                    old.unlink()
            except FileNotFoundError:
                pass


def file_for(media_root: Path, feed: cache.FeedState, mode: int) -> tuple[cache.FeedState, str]:
    """(the version to send, its path under the media folder), writing its files if this machine lacks them."""
    folder = media_root / FOLDER
    name = f"{feed.show_id}-{feed.etag}.xml"
    if not (folder / name).exists():
        feed, body, gzipped = cache.content(feed)  # another process may have stored a newer version
        name = f"{feed.show_id}-{feed.etag}.xml"
        folder.mkdir(parents=True, exist_ok=True)
        mtime = feed.last_modified.timestamp()
        _write(folder / f"{name}.gz", gzipped, mode, mtime)  # the .gz first: whenever the plain file exists
        _write(folder / name, body, mode, mtime)
        _prune(folder, feed.show_id, name)
    return feed, f"{FOLDER}/{name}"
