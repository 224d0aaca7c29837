"""Feed imports started from the admin: queued, run by a worker, followed on a page.

A producer pastes a feed's address; the request only checks that it is one
and queues the import (jobs.py: `import_feed`), so a feed of a thousand
episodes never holds a web request. The worker runs the same import as the
command line (run.py) and writes its progress to the import's row after
each item; the admin's page reads the row. An import waits while another
runs (one at a time per instance, as on the command line). A worker that
dies leaves the row `running` with no progress: the producer may start it
again, and it goes on where it stopped (episodes already here are skipped).
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import jobs
from ..accounts import service as accounts
from ..catalogue.inputs import make_slug
from ..core import locks as run_locks
from ..core.errors import Conflict, PodcastServiceError, ValidationError
from ..core.extensions import db
from ..core.leases import LeaseLost, Leases
from ..models import FeedImport, Show, User, utcnow
from .feed import ImportedItem
from .fetcher import is_url
from .run import import_feed, no_counts

log = logging.getLogger(__name__)

# No progress for this long and still `running`: its worker has most likely stopped. One episode's download
# can take minutes; ten without a single one done is a worker that is gone.
STALLED_AFTER = timedelta(minutes=10)
# What a verify code starts with, so a producer (and the old host's support) can tell what it is for.
VERIFY_PREFIX = "podcast-service-verify-"
# Queued this long without a worker taking it: its message was lost (the sweep queues it again).
LOST_AFTER = timedelta(minutes=2)
# Waiting for another import to finish: asked again after this long.
WAIT_SECONDS = 30
MAX_REMARKS = 500


def start(user: User, source: str, *, slug: str | None = None, owner_email: str | None = None) -> FeedImport:
    """Record and queue an import of the feed at `source` for `user`; what is wrong with the form is said now.

    The import gets the code that proves the feed is the producer's (imports/feed.py): the one their earlier
    import of the same feed had, so a code they already put into the feed stays good."""
    source = (source or "").strip()
    if not is_url(source) or len(source) > 2048:
        raise ValidationError(
            _("give the feed's address, starting with https:// or http:// (at most 2,048 characters)")
        )
    slug = make_slug(slug, "", _l("show slug")) if (slug or "").strip() else None
    owner_email = (owner_email or "").strip() or None
    if owner_email is not None and (len(owner_email) > 254 or "@" not in owner_email):
        raise ValidationError(_("the owner e-mail must be an e-mail address"))
    earlier = db.session.scalar(
        select(FeedImport.verify_code)
        .where(FeedImport.user_id == user.id, FeedImport.source == source, FeedImport.verify_code != "")
        .order_by(FeedImport.id.desc())
        .limit(1)
    )
    code = earlier or f"{VERIFY_PREFIX}{secrets.token_hex(12)}"
    row = FeedImport(user_id=user.id, source=source, slug=slug, owner_email=owner_email, verify_code=code)
    db.session.add(row)
    db.session.commit()
    _queue(row.id)
    return row


def visible(user: User, import_id: int) -> FeedImport | None:
    """The import, if `user` started it (or is an admin)."""
    row = db.session.get(FeedImport, import_id)
    return row if row is not None and (row.user_id == user.id or user.is_admin) else None


# A running import renews its lease with every item; one whose lease ran out has lost its worker.
LEASES = Leases(FeedImport, STALLED_AFTER.total_seconds)


def stalled(row: FeedImport) -> bool:
    return row.state == "running" and LEASES.ran_out(row)


def may_restart(row: FeedImport) -> bool:
    return row.state == "failed" or stalled(row)


def lost() -> list[int]:
    """Imports queued long ago that no worker has taken (their message was lost)."""
    return list(
        db.session.scalars(
            select(FeedImport.id).where(FeedImport.state == "queued", FeedImport.updated_at < utcnow() - LOST_AFTER)
        )
    )


class RowReporter:
    """Progress written to the import's row, one small commit per item (each episode is committed already)."""

    def __init__(self, row: FeedImport, token: str) -> None:
        self.row, self.token = row, token
        self.counts: Counter[str] = no_counts()
        self.row.imported = self.row.present = self.row.failed = 0
        self.row.bytes_fetched = 0

    def started(self, show: Show, total: int, notes: list[str]) -> None:
        self.row.show_id, self.row.items_total = show.id, total
        self.row.remarks = [["", note] for note in notes]
        self._save()

    def done(self, item: ImportedItem) -> None:
        self.counts[item.outcome] += 1
        setattr(self.row, item.outcome, self.counts[item.outcome])
        self.row.bytes_fetched += item.size
        if (item.outcome == "failed" or item.message) and len(self.row.remarks) < MAX_REMARKS:
            self.row.remarks = [*self.row.remarks, [item.title, item.message]]
        self._save()

    def _save(self) -> None:
        """The row's progress, committed with the lease's renewal (the UPDATE flushes it first)."""
        self.row.updated_at = utcnow()
        if not LEASES.renew(self.token):
            raise LeaseLost(self.row.id)


def run(import_id: int) -> float | None:
    """The worker's side: run the import, or say why not. Returns seconds to wait before asking again
    (another import runs), else None."""
    token = LEASES.claim(
        (FeedImport.id == import_id) & FeedImport.state.in_(("queued", "running")),
        state="running",
        message="",
        updated_at=utcnow(),
    )
    if token is None:
        return None  # done, failed, gone, or being run by another worker
    row = db.session.get_one(FeedImport, import_id)
    user = db.session.get_one(User, row.user_id)  # the import's row goes with its user
    reporter = RowReporter(row, token)

    try:
        with run_locks.held("import-feed"):
            show = import_feed(
                row.source,
                reporter,
                slug=row.slug,
                owner_email=row.owner_email,
                verify_code=row.verify_code,
                may_edit=lambda show: user.is_admin or user.role_in(show) is not None,
            )
            if not user.is_admin and user.role_in(show) is None:
                accounts.set_member(show, user, "owner")
    except run_locks.Held:
        db.session.rollback()
        LEASES.release(token, state="queued", message="waiting for another import to finish", updated_at=utcnow())
        return WAIT_SECONDS
    except PodcastServiceError as e:
        db.session.rollback()
        LEASES.release(token, state="failed", message=str(e), updated_at=utcnow())
        return None
    except LeaseLost:
        db.session.rollback()
        log.warning("feed import %s: taken over by another worker; this one stops", import_id)
        return None
    counts = reporter.counts
    message = f"{counts['imported']} imported, {counts['present']} already here, {counts['failed']} failed"
    LEASES.release(token, state="done", message=message, updated_at=utcnow())
    log.info("feed import %s done: %s", import_id, message)
    return None


def restart(row: FeedImport) -> None:
    if not may_restart(row):
        raise Conflict("this import is not stopped: it is queued, running or done")
    row.state, row.message, row.updated_at = "queued", "", utcnow()
    db.session.commit()
    _queue(row.id)


def _queue(import_id: int) -> None:
    jobs.jobs().enqueue("import_feed", import_id, what=f"feed import {import_id}")


@jobs.task("import_feed")
def run_queued(import_id: int) -> None:
    """The queue's task: run the import, or ask again in a while when another import holds the show."""
    wait = run(import_id)
    if wait is not None:
        jobs.jobs().later("import_feed", import_id, delay=wait)


@jobs.sweeper
def _requeue_lost(queue: jobs.Jobs) -> None:
    for import_id in lost():
        log.warning("feed import %s was never taken by a worker (its message was lost): queued again", import_id)
        queue.enqueue("import_feed", import_id, what=f"feed import {import_id}")


def as_json(row: FeedImport) -> dict:
    return {
        "id": row.id,
        "state": "stalled" if stalled(row) else row.state,
        "source": row.source,
        "items_total": row.items_total,
        "items_done": row.items_done,
        "imported": row.imported,
        "present": row.present,
        "failed": row.failed,
        "bytes_fetched": row.bytes_fetched,
        "message": row.message,
        "show": row.show.slug if row.show is not None else None,
    }


def mine(user: User, limit: int = 20) -> list[FeedImport]:
    query = select(FeedImport).order_by(FeedImport.id.desc()).limit(limit)
    if not user.is_admin:
        query = query.where(FeedImport.user_id == user.id)
    return list(db.session.scalars(query))
