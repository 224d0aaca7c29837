"""Which shows' feeds a change touches, seen at every flush (core/changes.py).

A subscriber rather than calls in each service function: a rule written once
cannot be forgotten by the next entry point. In the same transaction as the
change, the touched feeds are marked stale (cache.py) and an announcement to
hubs and directories is queued (announce.py), also for the moment a
scheduled episode goes live; the shows are noted under "feeds" for whatever
keeps copies of feeds (delivery/feed_files.py), and the announcements are
handed to the queue once the transaction commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..core import changes
from ..models import AlternateFile, Chapter, Credit, Episode, Link, Show, Status, utcnow
from . import announce
from .cache import mark_stale

_EPISODE_PARTS = (Chapter, Link, AlternateFile)
# An episode's attributes that no feed prints: a change to these alone (the audio job drawing a
# waveform) leaves every feed as it was, and pings no hub.
_NOT_IN_FEED = frozenset({"waveform_id", "waveform", "audio_job", "updated_at"})


def _touched(flush: changes.Flush) -> tuple[set[int], set[int], list[tuple[int, datetime]]]:
    """(show ids, ids of episodes whose show is still to look up, (show id, time) of scheduled publications).

    Only the shows whose rows changed: nothing a producer writes is shared
    between shows, so a change never needs another show's feed rebuilt.
    """
    shows: set[int] = set()
    episode_ids: set[int] = set()
    scheduled: list[tuple[int, datetime]] = []
    now = utcnow()
    for obj in flush.rows(Show, Episode, Credit, *_EPISODE_PARTS):
        if isinstance(obj, Show):
            shows.add(obj.id)
        elif isinstance(obj, Episode):
            if obj in flush.dirty and not changes.changed_attributes(obj) - _NOT_IN_FEED:
                continue
            shows.add(obj.show_id)
            if obj not in flush.deleted and obj.published_at and obj.status_at(now) is Status.SCHEDULED:
                scheduled.append((obj.show_id, obj.published_at))
        elif isinstance(obj, Credit) and obj.show_id is not None:
            shows.add(obj.show_id)
        else:
            episode_ids.add(obj.episode_id)
    return shows, episode_ids, scheduled


@changes.on_flush
def _feeds_changed(flush: changes.Flush) -> None:
    shows, episode_ids, scheduled = _touched(flush)
    connection = flush.session.connection()
    if episode_ids:
        shows |= set(
            connection.execute(
                select(Episode.__table__.c.show_id).where(Episode.__table__.c.id.in_(episode_ids))
            ).scalars()
        )
    shows = {s for s in shows if s is not None}
    if shows == set() and not scheduled:
        return
    mark_stale(connection, shows)
    if shows:
        flush.note("feeds", *shows)
    # A transaction flushes several times; its announcements are queued once.
    queued = changes.noted(flush.session, "announcements")
    new_scheduled = [(s, at) for s, at in scheduled if (s, at) not in queued]
    new_shows = shows - {s for s, at in queued if at is None}
    if announce.enqueue(connection, new_shows, new_scheduled):
        flush.note("announcements", *[(s, None) for s in new_shows], *new_scheduled)


@changes.after_commit("announcements")
def _queue_announcements(queued: set[tuple[int, datetime | None]]) -> None:
    """Have the queue send what the transaction queued: now, and at each scheduled time."""
    announce.queue({at for _, at in queued})
