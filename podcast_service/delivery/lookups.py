"""What the public may see: published episodes of public shows, nothing else.

A private show's episodes and files are reached only through a
subscriber's token (`show` given), or an episode's preview key.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from flask import abort, current_app
from flask_babel import gettext
from sqlalchemy import ColumnElement, CompoundSelect, Select, and_, bindparam, select, union, union_all

from ..core.extensions import db
from ..core.i18n import page_language
from ..core.settings import current_settings
from ..models import AlternateFile, Episode, MediaFile, Show, utcnow, web_etag
from .recent import RecentMedia, recent_media


def show_or_404(slug: str) -> Show:
    """A public show; a private one answers as if it did not exist."""
    show = db.session.scalar(select(Show).where(Show.slug == slug, Show.private.is_(False)))
    if show is None:
        abort(404, description=gettext("There is no show called %(slug)r.", slug=slug))
    page_language(show.language)
    return show


def published_episode_or_404(show: Show, slug: str) -> Episode:
    episode = db.session.scalar(select(Episode).where(Episode.show_id == show.id, Episode.slug == slug))
    if episode is None or not episode.visible_at(utcnow()):
        abort(404, description=gettext("There is no published episode at this address."))
    return episode


def episode_by_preview_key_or_404(key: str) -> Episode:
    episode = db.session.scalar(select(Episode).where(Episode.preview_key == key)) if len(key) >= 32 else None
    if episode is None:
        abort(404, description=gettext("This preview link is not valid."))
    page_language(episode.show.language)
    return episode


def published(now: Any) -> ColumnElement[bool]:
    """The episodes the public may see at `now` (a time or a bound parameter): published, not withdrawn,
    their audio ready."""
    return and_(
        Episode.withdrawn_at.is_(None),
        Episode.published_at.is_not(None),
        Episode.published_at <= now,
        Episode.audio_ready.is_(True),
    )


def public_file_ids() -> Select:
    """Ids of the files the public may fetch now: those of published episodes of public shows (not masters),
    and public shows' art. (No NULL among them: NOT IN a list holding one is never true.)"""
    live = select(Episode).join(Show, Show.id == Episode.show_id).where(Show.private.is_(False), published(utcnow()))
    episodes = live.subquery()
    ids = union(
        *(select(getattr(episodes.c, column)) for column in ("audio_id", "image_id", "transcript_id", "waveform_id")),
        select(AlternateFile.media_id).where(AlternateFile.episode_id.in_(select(episodes.c.id))),
        select(Show.image_id).where(Show.private.is_(False)),
    ).subquery()
    [column] = ids.c
    return select(column).where(column.is_not(None))


def public_among(public_ids: Iterable[str]) -> set[str]:
    """Which of these files (by public id) the public may fetch now. On a connection of its own: it is asked
    once a transaction has committed, when the session can say nothing more."""
    wanted = list(public_ids)
    if not wanted:
        return set()
    query = select(MediaFile.public_id).where(MediaFile.public_id.in_(wanted), MediaFile.id.in_(public_file_ids()))
    with db.engine.connect() as connection:
        return set(connection.scalars(query))


def owners_of(media_id: Any) -> CompoundSelect:
    """Ids of the episodes a media file belongs to: one indexed lookup per way a file can belong to one.

    (An OR across the columns would scan every episode; a union of index lookups costs the same at
    10 episodes and at 10,000.) A master the renditions were made from is not among them: it is never
    served, except as the audio of an episode still being processed, to its preview link.
    """
    return union_all(
        select(Episode.id).where(Episode.audio_id == media_id),
        select(Episode.id).where(Episode.waveform_id == media_id),
        select(Episode.id).where(Episode.image_id == media_id),
        select(Episode.id).where(Episode.transcript_id == media_id),
        select(AlternateFile.episode_id).where(AlternateFile.media_id == media_id),
    )


class ServedFile(NamedTuple):
    """What delivering a file needs of its row."""

    id: int
    backend: str
    key: str
    mime_type: str
    extension: str
    created_at: datetime
    size: int
    duration: float | None
    bitrate: int | None

    @property
    def etag(self) -> str:
        return web_etag(self.created_at, self.size)


class Found(NamedTuple):
    """A file the request may have, and the episode it was found through (None: a show's art)."""

    file: ServedFile
    episode_id: int | None


# Built once: the media route is the busiest there is, and building these per request cost more than
# running them. Only the bound values change.
_FILE = select(*(MediaFile.__table__.c[name] for name in ServedFile._fields)).where(
    MediaFile.__table__.c.public_id == bindparam("public_id")
)
_OWNER = (
    select(Episode.__table__.c.id)
    .join(Show.__table__, Show.__table__.c.id == Episode.__table__.c.show_id)
    .where(Episode.__table__.c.id.in_(owners_of(bindparam("media_id"))))
)
_PUBLISHED = published(bindparam("now"))
_PUBLIC_OWNER = _OWNER.where(Show.__table__.c.private.is_(False), _PUBLISHED).limit(1)
_SHOW_OWNER = _OWNER.where(Show.__table__.c.id == bindparam("show_id"), _PUBLISHED).limit(1)
_PREVIEW_OWNER = _OWNER.where(Episode.__table__.c.preview_key == bindparam("preview_key")).limit(1)
_PUBLIC_SHOW_ART = (
    select(Show.__table__.c.id)
    .where(Show.__table__.c.image_id == bindparam("media_id"), Show.__table__.c.private.is_(False))
    .limit(1)
)
_SHOW_ART = (
    select(Show.__table__.c.id)
    .where(Show.__table__.c.image_id == bindparam("media_id"), Show.__table__.c.id == bindparam("show_id"))
    .limit(1)
)


def counted_audio(found: Found) -> bool:
    """An episode's audio (its enclosure or a rendition), whose requests count as downloads."""
    return found.episode_id is not None and found.file.mime_type.startswith("audio/") and current_settings().analytics


def forget_decision(public_id: str) -> bool:
    """Drop what this process keeps about the file (for any show); whether it kept anything."""
    return recent_media(current_app).forget(public_id)


def public_media_or_404(public_id: str, preview_key: str | None = None, show: Show | None = None) -> Found:
    """The file, if it is part of something published (an episode's file, or a show's art).

    Without `show`, only files of public shows; with it (a subscriber's
    request), only files of that show. A file of an episode that is not
    published is served only with that episode's preview key. What is
    found without the key is kept a few seconds (recent.py); what
    only the key opens, never.
    """
    show_id = show.id if show is not None else None
    recent = recent_media(current_app)
    found = recent.decision(public_id, show_id)
    if found is not None:
        return found
    generation = RecentMedia.generation
    connection = db.session.connection()
    row = connection.execute(_FILE, {"public_id": public_id}).first()
    if row is None:
        abort(404)
    served = ServedFile(*row)
    values: dict[str, Any] = {"media_id": served.id, "now": utcnow(), "show_id": show_id}
    owner = connection.execute(_SHOW_OWNER if show is not None else _PUBLIC_OWNER, values).scalar()
    if (
        owner is not None
        or connection.execute(_SHOW_ART if show is not None else _PUBLIC_SHOW_ART, values).first() is not None
    ):
        found = Found(served, owner)
        recent.keep_decision(public_id, show_id, found, generation)
        return found
    if preview_key:
        owner = connection.execute(_PREVIEW_OWNER, {**values, "preview_key": preview_key}).scalar()
        if owner is not None:
            return Found(served, owner)
    abort(404)
