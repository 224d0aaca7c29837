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

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Request

from ..core.extensions import db
from ..core.settings import current_settings
from ..models import Episode, MediaRequest, table_of, utcnow
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
        self.interval = current_settings(app).analytics_flush_seconds
        self.datacenters = Datacenters.load(current_settings(app).analytics_datacenter_ranges)
        self.countries = Countries.load(current_settings(app).analytics_geoip_database)
        self.site = urlsplit(current_settings(app).base_url).netloc  # the host of the site's own players
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
                chunk = batch[start : start + BATCH]
                try:
                    written += _insert(chunk)
                except Exception:
                    db.session.rollback()
                    log.exception("analytics: %d request rows not written", len(chunk))
            db.session.remove()
        return written


def _insert(chunk: list[dict[str, Any]]) -> int:
    try:
        db.session.execute(table_of(MediaRequest).insert(), chunk)
        db.session.commit()
        return len(chunk)
    except IntegrityError:
        db.session.rollback()
    # An episode deleted since the request (or a log line naming none): its rows go, the others are kept.
    ids = set(db.session.scalars(select(Episode.id).where(Episode.id.in_({row["episode_id"] for row in chunk}))))
    kept = [row for row in chunk if row["episode_id"] in ids]
    if kept:
        db.session.execute(table_of(MediaRequest).insert(), kept)
        db.session.commit()
    return len(kept)


def recorder(app: Flask | None = None) -> Recorder:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    held = app.extensions.get("podcast_analytics")
    if held is None:
        held = app.extensions.setdefault("podcast_analytics", Recorder(app))
    return held


def source(referrer: str | None, private: bool, site: str) -> tuple[str, str | None]:
    """(where the request came from, the referring host): a subscriber's private feed, the site's episode
    page or embed (on `site`, the site's host), another web page, or an app (no referrer)."""
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


def record(request: Request, *, episode_id: int, media_id: int, file_size: int, threshold: int, private: bool) -> None:
    """Queue the row for an enclosure request (GET or HEAD) answered here, if it can add to a download; never
    raises into the media route."""
    try:
        span = counted_span(request.method, request.headers.get("Range"), file_size, threshold)
        if span is not None:
            add_request(
                recorder(),
                address=request.remote_addr or "",
                user_agent=request.user_agent.string or "",
                span=span,
                referrer=request.referrer,
                at=utcnow(),
                episode_id=episode_id,
                media_id=media_id,
                file_size=file_size,
                threshold=threshold,
                private=private,
            )
    except Exception:
        log.exception("analytics: request not recorded")


def counted_span(method: str, range_header: str | None, file_size: int, threshold: int) -> tuple[int, int] | None:
    """The bytes a request asks for, if it can add to a download (counting.py): a GET whose range starts
    within the file's first minute. None for the others, which are not kept: a HEAD, or a range further
    on (an app seeking, or streaming the rest), never changes a count, so it costs no key, no row and no
    write; most of an app's ranges are such."""
    if method != "GET":
        return None
    span = byte_range(range_header, file_size)
    return span if span is not None and span[0] < threshold else None


def add_request(
    rec: Recorder,
    *,
    address: str,
    user_agent: str,
    span: tuple[int, int],
    referrer: str | None,
    at: datetime,
    episode_id: int,
    media_id: int,
    file_size: int,
    threshold: int,
    private: bool,
) -> None:
    """Queue the row for one counted GET (`span` from counted_span), however it was seen: by the media
    route, or in the web server's log of the requests it answered alone (nginx_log.py)."""
    user_agent = user_agent[:300]
    agent = agents.classify(user_agent)
    where, referring_host = source(referrer, private, rec.site)
    name = agent.name
    if agent.kind == "browser" and referring_host:
        name = agents.web_app(referrer or "") or name
    day = at.date()
    rec.add(
        {
            "episode_id": episode_id,
            "media_id": media_id,
            "day": day,
            "at": at,
            "listener": listeners.key(address, user_agent, day),
            "method": "GET",
            "range_start": span[0],
            "range_end": span[1],
            "file_size": file_size,
            "threshold": threshold,
            "user_agent": user_agent,
            "app": name,
            "bot": agent.bot or rec.datacenters.contains(address),
            "source": where,
            "referrer": referring_host,
            "country": rec.countries.of(address),
        }
    )
