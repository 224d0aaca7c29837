"""Feed bytes built once and shared by every app process, through the database.

A request reads one small row (etag, dates, freshness); a 304 needs nothing
more. A fresh row's bytes come from this process's memory when it already
holds that etag, else from the row. A stale row (changes.py marks it in the
transaction of the change) or one past `valid_until` (a scheduled episode
has gone live since) is rebuilt by the request that finds it so, and only
stored if no change happened during the build.

A private show's feed is built once with the row's `token_slot` wherever
the service writes a subscriber URL; serving puts each subscriber's token
there. The slot is random, made with the row and never shown to anyone, so
no text a producer writes (notes, a person's picture URL) can contain it:
the token lands only in the URLs the service itself wrote.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..core.extensions import db, rows_changed
from ..core.settings import current_settings
from ..core.urls import FeedUrls
from ..models import CachedFeed, Episode, Show, table_of, utcnow, web_etag
from . import build_feed
from .data import feed_episodes

_memo_lock = threading.Lock()


def _memo() -> dict[int, tuple[str, bytes, bytes]]:
    """This process's copy of the app's feeds: show id -> (etag, body, gzipped). Kept per app, since show
    ids are only unique within one database (a process holding two apps must not trade their feeds)."""
    return current_app.extensions.setdefault("podcast_feed_memo", {})


@dataclass(frozen=True)
class FeedState:
    show_id: int
    etag: str  # the body's SHA-256: a build that changed nothing keeps the date
    last_modified: datetime
    token_slot: str
    generation: int
    size: int
    gzipped_size: int
    valid_until: datetime | None  # when the next scheduled episode goes live
    # The bytes, when this request built them: served as built even if another process stores others.
    built: tuple[bytes, bytes] | None = None

    def web_etag(self, gzipped: bool) -> str:
        """The ETag of the plain or gzipped bytes: nginx's for the files it sends (delivery/feed_files.py).

        The date changes with every version and the size tells the two
        encodings apart, so the tag is strong and unique to its bytes.
        """
        return web_etag(self.last_modified, self.gzipped_size if gzipped else self.size)


def next_change(show: Show, now: datetime) -> datetime | None:
    """When the next scheduled episode goes live: the feed changes then by itself."""
    return db.session.scalar(
        select(func.min(Episode.published_at)).where(
            Episode.show_id == show.id, Episode.withdrawn_at.is_(None), Episode.published_at > now
        )
    )


def render(show: Show, now: datetime, token_slot: str | None = None) -> bytes:
    """The feed's bytes as of `now`, built from the database (no cache involved).

    A private show's subscriber URLs carry `token_slot` where the token goes.
    """
    return _build(show, now, token_slot)[0]


def _build(show: Show, now: datetime, token_slot: str | None) -> tuple[bytes, int]:
    """(the feed's bytes, how many episodes it lists)."""
    urls = FeedUrls(show, token_slot) if show.private else FeedUrls(show)
    episodes = feed_episodes(show, now)
    return build_feed(show, episodes, urls, current_settings().websub_hubs), len(episodes)


def _row(show: Show) -> CachedFeed:
    row = db.session.get(CachedFeed, show.id)
    if row is not None:
        return row
    try:
        db.session.add(CachedFeed(show_id=show.id, generation=0, stale=True))
        db.session.commit()
    except IntegrityError:  # another process made it first
        db.session.rollback()
    return db.session.get_one(CachedFeed, show.id)


def state(show: Show) -> FeedState:
    """The feed's current etag and date, rebuilding it first if it is stale."""
    now = utcnow()
    row = _row(show)
    if (
        row.fresh_at(now)
        and row.etag is not None
        and row.last_modified is not None
        and row.size is not None
        and row.gzipped_size is not None
    ):
        return FeedState(
            show.id,
            row.etag,
            row.last_modified,
            row.token_slot,
            row.generation,
            row.size,
            row.gzipped_size,
            row.valid_until,
        )
    generation, old_etag, old_modified = row.generation, row.etag, row.last_modified
    body, item_count = _build(show, now, row.token_slot)
    etag = hashlib.sha256(body).hexdigest()
    if etag == old_etag and old_modified is not None:
        last_modified = old_modified
    else:
        # Whole seconds, as HTTP dates have, and always later than the previous version's.
        last_modified = now.replace(microsecond=0)
        if old_modified is not None and last_modified <= old_modified:
            last_modified = old_modified + timedelta(seconds=1)
    gzipped = gzip.compress(body, compresslevel=6, mtime=0)
    valid_until = next_change(show, now)
    stored = rows_changed(
        update(CachedFeed)
        .where(CachedFeed.show_id == show.id, CachedFeed.generation == generation)
        .values(
            body=body,
            gzipped=gzipped,
            etag=etag,
            last_modified=last_modified,
            stale=False,
            valid_until=valid_until,
            item_count=item_count,
            size=len(body),
            gzipped_size=len(gzipped),
        )
    )
    db.session.commit()
    if not stored:
        current_app.logger.info("feed of show %s changed while it was built; not cached", show.id)
    with _memo_lock:
        _memo()[show.id] = (etag, body, gzipped)
    # Not stored: no generation vouches for these bytes, so nginx is given no file of them (delivery/feed_files.py).
    return FeedState(
        show.id,
        etag,
        last_modified,
        row.token_slot,
        generation if stored else -1,
        len(body),
        len(gzipped),
        valid_until,
        (body, gzipped),
    )


def content(feed: FeedState) -> tuple[FeedState, bytes, bytes]:
    """This version of the feed's (state, body, gzipped body), or the newer one another process just stored."""
    if feed.built is not None:
        return feed, *feed.built
    with _memo_lock:
        held = _memo().get(feed.show_id)
    if held is not None and held[0] == feed.etag:
        return feed, held[1], held[2]
    row = db.session.execute(
        select(
            CachedFeed.etag,
            CachedFeed.last_modified,
            CachedFeed.token_slot,
            CachedFeed.generation,
            CachedFeed.valid_until,
            CachedFeed.body,
            CachedFeed.gzipped,
        ).where(CachedFeed.show_id == feed.show_id)
    ).one()
    with _memo_lock:
        _memo()[feed.show_id] = (row.etag, row.body, row.gzipped)
    return (
        FeedState(
            feed.show_id,
            row.etag,
            row.last_modified,
            row.token_slot,
            row.generation,
            len(row.body),
            len(row.gzipped),
            row.valid_until,
        ),
        row.body,
        row.gzipped,
    )


def generation(show_id: int) -> int | None:
    """The feed's generation as committed now: a change committed since a state was read has bumped it."""
    return db.session.scalar(select(CachedFeed.generation).where(CachedFeed.show_id == show_id))


def mark_stale(connection, show_ids: set[int]) -> None:  # noqa: ANN001
    """Mark these shows' feeds stale on the connection of the changing transaction."""
    table = table_of(CachedFeed)
    connection.execute(
        update(table).where(table.c.show_id.in_(show_ids)).values(stale=True, generation=table.c.generation + 1)
    )
