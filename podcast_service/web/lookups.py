"""What the public may see: published episodes of existing shows, nothing else."""

from __future__ import annotations

from flask import abort
from sqlalchemy import or_, select

from ..extensions import db
from ..models import Episode, MediaFile, Show, Status, utcnow


def show_or_404(slug: str) -> Show:
    show = db.session.scalar(select(Show).where(Show.slug == slug))
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


def public_media_or_404(public_id: str, preview_key: str | None = None) -> tuple[MediaFile, Episode | None]:
    """The file and the episode it belongs to, if the file is part of something published.

    A file of an episode that is not public is served only with that
    episode's preview key.
    """
    row = db.session.scalar(select(MediaFile).where(MediaFile.public_id == public_id))
    if row is None:
        abort(404)
    owner = or_(Episode.audio_id == row.id, Episode.image_id == row.id, Episode.transcript_id == row.id)
    episode = db.session.scalar(select(Episode).where(owner, Episode.public_at(utcnow())))
    if episode is None and preview_key:
        episode = db.session.scalar(select(Episode).where(owner, Episode.preview_key == preview_key))
    if episode is not None:
        return row, episode
    if db.session.scalar(select(Show.id).where(Show.image_id == row.id)) is not None:
        return row, None
    abort(404)
