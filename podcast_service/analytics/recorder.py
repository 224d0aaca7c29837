"""Recording enclosure requests without slowing them: rows are buffered in the process and written in batches.

The media route only works out the row (the listener key, the byte range,
who asked) and puts it in a queue; a thread of the process writes what has
gathered once a second (`analytics_flush_seconds`) in one INSERT. The
thread starts with the first request recorded, so a forking server starts
it in each worker, after the fork. A process killed outright loses at most
that second's rows; one stopped normally writes them on its way out.
"""

from __future__ import annotations

import atexit
import logging
import queue
import re
import threading
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, current_app

from ..extensions import db
from ..models import MediaRequest, utcnow
from . import agents, listeners
from .countries import Countries
from .datacenters import Datacenters

log = logging.getLogger(__name__)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# The site's own player pages: the episode page, and the embed (its own source).
_EMBED_PATH = re.compile(r"^/shows/[^/]+/[^/]+/embed$")
_PAGE_PATH = re.compile(r"^/(shows/[^/]+/[^/]+|preview/[^/]+)/$")
BATCH = 1000


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first range a Range header asks for, resolved against the file's size, inclusive; None: no range
    or one that cannot be satisfied (the whole file is then what a server sends, or nothing)."""
    if not header:
        return 0, size - 1
    match = _RANGE.match(header.split(",")[0].strip())
    if match is None or size <= 0:
        return 0, size - 1
    first, last = match.groups()
    if not first and not last:
        return 0, size - 1
    if not first:  # the last N bytes
        return max(0, size - int(last)), size - 1
    start = int(first)
    if start >= size:
        return None
    return start, min(size - 1, int(last)) if last else size - 1


class Recorder:
    """One per app: the queue of rows not yet written and the thread writing them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.rows: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.interval = app.config["PODCAST"].analytics_flush_seconds
        self.datacenters = Datacenters.load(app.config["PODCAST"].analytics_datacenter_ranges)
        self.countries = Countries.load(app.config["PODCAST"].analytics_geoip_database)
        self.site = urlsplit(app.config["PODCAST"].base_url).netloc  # the host of the site's own players
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def add(self, row: dict[str, Any]) -> None:
        self.rows.put(row)
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="analytics-writer", daemon=True)
                    self._thread.start()
                    atexit.register(self.flush)

    def _run(self) -> None:
        while not self._closed.wait(self.interval):
            self.flush()

    def close(self) -> None:
        """Stop the writing thread and write what waits: the app is going away (its database with it)."""
        self._closed.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()

    def flush(self) -> int:
        """Write every row waiting; returns how many. A failure (database down) keeps nothing and says so:
        counting must never hold up or break delivery."""
        batch: list[dict[str, Any]] = []
        while True:
            try:
                batch.append(self.rows.get_nowait())
            except queue.Empty:
                break
        written = 0
        if not batch:
            return 0
        with self.app.app_context():
            for start in range(0, len(batch), BATCH):
                chunk = batch[start:start + BATCH]
                try:
                    db.session.execute(MediaRequest.__table__.insert(), chunk)
                    db.session.commit()
                    written += len(chunk)
                except Exception:  # noqa: BLE001  (any database failure: the rows are lost, delivery is not)
                    db.session.rollback()
                    log.exception("analytics: %d request rows not written", len(chunk))
            db.session.remove()
        return written


def recorder(app: Flask | None = None) -> Recorder:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    held = app.extensions.get("podcast_analytics")
    if held is None:
        held = app.extensions.setdefault("podcast_analytics", Recorder(app))
    return held


def source(request: Request, private: bool, site: str) -> tuple[str, str | None]:
    """(where the request came from, the referring host): a subscriber's private feed, the site's episode
    page or embed (on `site`, the site's host), another web page, or an app (no referrer)."""
    referrer = request.referrer
    if private:
        return "private", None
    if not referrer:
        return "feed", None
    parts = urlsplit(referrer)
    if parts.netloc == site and _EMBED_PATH.match(parts.path):
        return "embed", None
    if parts.netloc == site and _PAGE_PATH.match(parts.path):
        return "web", None
    return "web", (parts.hostname or "")[:255] or None


def record(request: Request, *, episode_id: int, media_id: int, file_size: int, threshold: int,
           private: bool) -> None:
    """Queue the row for an enclosure request (GET or HEAD); never raises into the media route."""
    try:
        now: datetime = utcnow()
        user_agent = (request.user_agent.string or "")[:300]
        agent = agents.classify(user_agent)
        span = byte_range(request.headers.get("Range"), file_size)
        address = request.remote_addr or ""
        rec = recorder()
        where, referrer = source(request, private, rec.site)
        name = agent.name
        if agent.kind == "browser" and referrer:
            name = agents.web_app(request.referrer or "") or name
        recorder_row = {
            "episode_id": episode_id, "media_id": media_id, "day": now.date(), "at": now,
            "listener": listeners.key(address, user_agent, now.date()), "method": request.method,
            "range_start": span[0] if span else -1, "range_end": span[1] if span else -1,
            "file_size": file_size, "threshold": threshold, "user_agent": user_agent, "app": name,
            "bot": agent.bot or rec.datacenters.contains(address), "source": where, "referrer": referrer,
            "country": rec.countries.of(address),
        }
        rec.add(recorder_row)
    except Exception:  # noqa: BLE001  (counting is never worth a failed download)
        log.exception("analytics: request not recorded")
