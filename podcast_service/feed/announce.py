"""Telling WebSub hubs and podcast directories that a feed changed, without making anyone wait.

Announcements are rows written in the transaction that changes a feed
(feed/changes.py), one due now and one at each scheduled episode's time. The
job queue sends the due ones (jobs.py: a job right after the commit, one at
each scheduled time, and every minute as a backstop): a WebSub publish ping
to every configured hub and a GET to every pubnotify URL (Podcast Index's
`https://api.podcastindex.org/api/1.0/hub/pubnotify`), each with a timeout.
A failure is logged and retried later with a growing delay, up to
MAX_ATTEMPTS. A sender claims rows by moving their due time forward in one
UPDATE, so several workers never send the same row twice at once.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update

from .. import jobs
from ..core.extensions import db, rows_changed
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


def run_due() -> datetime | None:
    """Send every due announcement; return when the next one falls due, if any is queued."""
    table = table_of(Announcement)
    now = utcnow()
    for show_id in set(db.session.scalars(select(Announcement.show_id).where(Announcement.due_at <= now))):
        lease = utcnow() + LEASE
        claimed = rows_changed(
            update(table)
            .where(table.c.show_id == show_id, table.c.due_at <= now)
            .values(due_at=lease, attempts=table.c.attempts + 1)
        )
        db.session.commit()
        if not claimed:
            continue  # another process took them
        mine = (table.c.show_id == show_id) & (table.c.due_at == lease)
        show = db.session.get(Show, show_id)
        errors = send(show) if show is not None and not show.private and not show.new_feed_url else []
        attempts = db.session.scalar(select(table.c.attempts).where(mine).order_by(table.c.attempts.desc())) or 0
        if not errors:
            db.session.execute(delete(table).where(mine))
        elif attempts >= MAX_ATTEMPTS:
            log.error("giving up announcing show %s after %d attempts: %s", show_id, attempts, "; ".join(errors))
            db.session.execute(delete(table).where(mine))
        else:
            log.warning("announcing show %s failed (attempt %d), will retry: %s", show_id, attempts, "; ".join(errors))
            db.session.execute(
                update(table)
                .where(mine)
                .values(due_at=utcnow() + _retry_delay(attempts), last_error="; ".join(errors)[:2000])
            )
        db.session.commit()
    return db.session.scalar(select(Announcement.due_at).order_by(Announcement.due_at).limit(1))


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
