"""Telling WebSub hubs and podcast directories that a feed changed, without making anyone wait.

Announcements are rows written in the transaction that changes a feed
(feed/changes.py), one due now and one at each scheduled episode's time. The
job queue sends the due ones (jobs.py: a job right after the commit, one at
each scheduled time, and every minute as a backstop): a WebSub publish ping
to every configured hub and a GET to every pubnotify URL (Podcast Index's
`https://api.podcastindex.org/api/1.0/hub/pubnotify`), each with a timeout.
A failure is logged and retried later with a growing delay, up to
MAX_ATTEMPTS. A sender leases a show's due rows (core/leases.py), so several
workers never send the same row at once, and a sender that dies leaves them
due again when its lease runs out.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from .. import jobs
from ..core.extensions import db
from ..core.leases import Leases
from ..core.settings import Settings, current_settings
from ..core.urls import feed_url
from ..models import Announcement, Show, table_of, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
TIMEOUT = 10  # seconds per ping
LEASE = timedelta(minutes=2)  # how long a claimed row stays away from other senders


def targets_configured(settings: Settings) -> bool:
    """Whether there is anyone to tell: without hubs or pubnotify URLs nothing is queued or sent."""
    return bool(settings.websub_hubs or settings.pubnotify_urls)


def enqueue(connection, shows: set[int], scheduled: Iterable[tuple[int, datetime]]) -> bool:  # noqa: ANN001
    """Queue announcements of public shows on the changing transaction: one due now for each of `shows`,
    one at each scheduled time. Returns whether any was queued."""
    if not targets_configured(current_settings()):
        return False
    scheduled = list(scheduled)
    table = Show.__table__
    query = select(table.c.id).where(
        table.c.private.is_(False),
        table.c.new_feed_url.is_(None),
        table.c.id.in_(set(shows) | {s for s, _ in scheduled}),
    )
    public = set(connection.execute(query).scalars())
    now = utcnow()
    rows = [{"show_id": s, "due_at": now, "attempts": 0} for s in public if s in shows]
    rows += [{"show_id": s, "due_at": at, "attempts": 0} for s, at in scheduled if s in public]
    if rows:
        connection.execute(insert(table_of(Announcement)), rows)
    return bool(rows)


def _ping(url: str, data: bytes | None) -> None:
    request = urllib.request.Request(url, data=data, headers={"User-Agent": "podcast-service"})
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        if response.status >= 300:
            raise urllib.error.HTTPError(url, response.status, response.reason, response.headers, None)


def send(show: Show) -> list[str]:
    """Ping every configured target about the show's feed; the errors, one line each."""
    settings = current_settings()
    feed = feed_url(show)
    errors = []
    for hub in settings.websub_hubs:
        try:
            _ping(hub, urllib.parse.urlencode({"hub.mode": "publish", "hub.url": feed}).encode())
        except (OSError, ValueError) as e:
            errors.append(f"hub {hub}: {e}")
    for base in settings.pubnotify_urls:
        url = base + ("&" if "?" in base else "?") + urllib.parse.urlencode({"url": feed})
        try:
            _ping(url, None)
        except (OSError, ValueError) as e:
            errors.append(f"pubnotify {base}: {e}")
    return errors


def _retry_delay(attempts: int) -> timedelta:
    base = current_settings().announce_retry_seconds
    return timedelta(seconds=base * 4 ** (attempts - 1))


LEASES = Leases(Announcement, lambda: LEASE.total_seconds())


def run_due() -> datetime | None:
    """Send every due announcement; return when the next one falls due, if any is queued."""
    now = utcnow()
    due = select(Announcement.show_id).where(Announcement.due_at <= now, LEASES.free(now))
    for show_id in set(db.session.scalars(due)):
        token = LEASES.claim(
            (Announcement.show_id == show_id) & (Announcement.due_at <= now), attempts=Announcement.attempts + 1
        )
        if token is None:
            continue  # another process took them
        show = db.session.get(Show, show_id)
        errors = send(show) if show is not None and not show.private and not show.new_feed_url else []
        mine = select(Announcement.attempts).where(Announcement.lease_token == token)
        attempts = db.session.scalar(mine.order_by(Announcement.attempts.desc()).limit(1)) or 0
        if not errors:
            LEASES.finish(token)
        elif attempts >= MAX_ATTEMPTS:
            log.error("giving up announcing show %s after %d attempts: %s", show_id, attempts, "; ".join(errors))
            LEASES.finish(token)
        else:
            log.warning("announcing show %s failed (attempt %d), will retry: %s", show_id, attempts, "; ".join(errors))
            LEASES.release(token, due_at=utcnow() + _retry_delay(attempts), last_error="; ".join(errors)[:2000])
    # The next due time, or when a lease another sender holds runs out (it may have died).
    next_free = db.session.scalar(
        select(Announcement.due_at).where(Announcement.lease_until.is_(None)).order_by(Announcement.due_at).limit(1)
    )
    next_lease = db.session.scalar(
        select(Announcement.lease_until)
        .where(Announcement.lease_until.is_not(None))
        .order_by(Announcement.lease_until)
        .limit(1)
    )
    return min((t for t in (next_free, next_lease) if t is not None), default=None)


@jobs.task("send_announcements")
def send_due() -> None:
    """The queue's task: send what is due, and ask to run again when the next announcement falls due."""
    next_due = run_due()
    if next_due is not None:
        jobs.jobs().later("send_announcements", eta=next_due)


@jobs.sweeper
def _send_left_behind(queue: jobs.Jobs) -> None:
    send_due()


def queue(times: set[datetime | None]) -> None:
    """Send queued announcements now (None) and at each scheduled time; never fails the caller."""
    if not targets_configured(current_settings()):
        return
    work = jobs.jobs()
    for at in times:
        if at is None:
            work.enqueue("send_announcements", what="announcements")
        else:
            work.later("send_announcements", eta=at)
