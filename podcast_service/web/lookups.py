"""What the public may see: published episodes of public shows, nothing else.

A private show's episodes and files are reached only through a
subscriber's token (`show` given), or an episode's preview key.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, select, union_all

from ..extensions import db
from ..models import AlternateFile, Episode, MediaFile, Show, Status, utcnow


def show_or_404(slug: str) -> Show:
    """A public show; a private one answers as if it did not exist."""
    show = db.session.scalar(select(Show).where(Show.slug == slug, Show.private.is_(False)))
    if show is None:
        abort(404, description=f"There is no show called {slug!r}.")
    return show


def published_episode_or_404(show: Show, slug: str) -> Episode:
    episode = db.session.scalar(select(Episode).where(Episode.show_id == show.id, Episode.slug == slug))
    if episode is None or episode.status is not Status.PUBLISHED:
        abort(404, description="There is no published episode at this address.")
    return episode


def episode_by_preview_key_or_404(key: str) -> Episode:
    episode = db.session.scalar(select(Episode).where(Episode.preview_key == key)) if len(key) >= 32 else None
    if episode is None:
        abort(404, description="This preview link is not valid.")
    return episode


def owners_of(media_id: int) -> Select:
    """Ids of the episodes a media file belongs to: one indexed lookup per way a file can belong to one.

    (An OR across the columns would scan every episode; a union of index lookups costs the same at
    10 episodes and at 10,000.)
    """
    return union_all(
        select(Episode.id).where(Episode.audio_id == media_id),
        select(Episode.id).where(Episode.image_id == media_id),
        select(Episode.id).where(Episode.transcript_id == media_id),
        select(AlternateFile.episode_id).where(AlternateFile.media_id == media_id),
    )


def public_media_or_404(public_id: str, preview_key: str | None = None,
                        show: Show | None = None) -> tuple[MediaFile, Episode | None]:
    """The file and the episode it belongs to, if the file is part of something published.

    Without `show`, only files of public shows; with it (a subscriber's
    request), only files of that show. A file of an episode that is not
    published is served only with that episode's preview key.
    """
    row = db.session.scalar(select(MediaFile).where(MediaFile.public_id == public_id))
    if row is None:
        abort(404)
    in_scope = Show.id == show.id if show is not None else Show.private.is_(False)
    episodes = select(Episode).join(Episode.show).where(Episode.id.in_(owners_of(row.id)))
    episode = db.session.scalar(episodes.where(in_scope, Episode.public_at(utcnow())))
    if episode is None and preview_key:
        episode = db.session.scalar(episodes.where(Episode.preview_key == preview_key))
    if episode is not None:
        return row, episode
    if db.session.scalar(select(Show.id).where(Show.image_id == row.id, in_scope)) is not None:
        return row, None
    abort(404)
