"""Which shows' feeds a database change touches, seen at every flush.

A listener rather than calls in each service function: a rule written once
cannot be forgotten by the next entry point. In the same transaction as the
change, the touched feeds are marked stale (cache.py) and an announcement to
hubs and directories is queued (announce.py), also for the moment a
scheduled episode goes live. Once it is committed, the files nginx sends
feeds from are dropped (delivery/feed_files.py).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session
from sqlalchemy import event, inspect, select

from . import announce
from ..models import AlternateFile, Chapter, Credit, Episode, Link, Show, Status, utcnow
from ..delivery import feed_files
from .cache import mark_stale

_EPISODE_PARTS = (Chapter, Link, AlternateFile)
# An episode's attributes that no feed prints: a change to these alone (the audio job drawing a
# waveform) leaves every feed as it was, and pings no hub.
_NOT_IN_FEED = frozenset({"waveform_id", "waveform", "audio_job", "updated_at"})


def _changes_feed(obj: Episode) -> bool:
    changed = {a.key for a in inspect(obj).attrs if a.history.has_changes()}
    return bool(changed - _NOT_IN_FEED)


def _touched(session) -> tuple[set[int], set[int], list[tuple[int, datetime]]]:  # noqa: ANN001
    """(show ids, ids of episodes whose show is still to look up, (show id, time) of scheduled publications).

    Only the shows whose rows changed: nothing a producer writes is shared
    between shows, so a change never needs another show's feed rebuilt.
    """
    shows: set[int] = set()
    episode_ids: set[int] = set()
    scheduled: list[tuple[int, datetime]] = []
    now = utcnow()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Show):
            shows.add(obj.id)
        elif isinstance(obj, Episode):
            if obj in session.dirty and not _changes_feed(obj):
                continue
            shows.add(obj.show_id)
            if obj not in session.deleted and obj.status_at(now) is Status.SCHEDULED:
                scheduled.append((obj.show_id, obj.published_at))
        elif isinstance(obj, Credit):
            if obj.show_id is not None:
                shows.add(obj.show_id)
            else:
                episode_ids.add(obj.episode_id)
        elif isinstance(obj, _EPISODE_PARTS):
            episode_ids.add(obj.episode_id)
    return shows, episode_ids, scheduled


@event.listens_for(Session, "after_flush")
def _after_flush(session, flush_context) -> None:  # noqa: ANN001
    shows, episode_ids, scheduled = _touched(session)
    connection = session.connection()
    if episode_ids:
        shows |= set(connection.execute(
            select(Episode.__table__.c.show_id).where(Episode.__table__.c.id.in_(episode_ids))).scalars())
    shows = {s for s in shows if s is not None}
    if shows == set() and not scheduled:
        return
    mark_stale(connection, shows)
    if shows:
        session.info["feeds_stale"] = True
    # A transaction flushes several times; its announcements are queued once.
    queued = session.info.setdefault("announced", set())
    new_scheduled = [(s, at) for s, at in scheduled if (s, at) not in queued]
    new_shows = shows - {s for s, at in queued if at is None}
    if announce.enqueue(connection, new_shows, new_scheduled):
        queued.update([(s, None) for s in new_shows] + new_scheduled)


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:  # noqa: ANN001
    """Have nginx ask the service for feeds again, and the queue send what the transaction queued: now, and at
    each scheduled time."""
    if session.info.pop("feeds_stale", False) and has_app_context():
        feed_files.forget_all(current_app.config["PODCAST"].storage_path)
    queued = session.info.pop("announced", None)
    if queued:
        announce.queue({at for _, at in queued})


@event.listens_for(Session, "after_rollback")
def _after_rollback(session) -> None:  # noqa: ANN001
    session.info.pop("announced", None)
    session.info.pop("feeds_stale", None)
