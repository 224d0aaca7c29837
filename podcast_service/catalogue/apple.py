"""What a producer must fix for Apple Podcasts to list a show's episodes: each needs an MP3 or M4A file."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from ..core.extensions import db
from ..models import Episode, Show
from .lists import ListedEpisode


def _warning(title: str) -> str:
    return f"Episode {title!r} has no MP3 or M4A file, so Apple Podcasts will not list it; add an MP3 or M4A rendition."


def warnings(episodes: Sequence[Episode | ListedEpisode]) -> list[str]:
    """What a producer must fix for Apple Podcasts to list these episodes. (An episode whose audio is still
    being made, or failed, reaches nobody yet: its audio state says so instead.)"""
    return [_warning(e.title) for e in episodes if e.audio_ready and not e.apple_playable]


def show_warnings(show: Show, limit: int = 10) -> list[str]:
    """The same for a whole show, in two queries however many episodes it has (the first `limit` named)."""
    titles, total = episodes_without_apple_file(show.id, limit)
    found = [_warning(title) for title in titles]
    if total > len(titles):
        found.append(f"{total - len(titles)} more episodes have no MP3 or M4A file either.")
    return found


def episodes_without_apple_file(show_id: int, limit: int) -> tuple[list[str], int]:
    """(titles of the first `limit`, how many in all) of the show's episodes with no MP3 or M4A rendition.

    Read from the episodes' `apple_playable` flag through its index: the cost is that of the answer.
    """
    missing = select(Episode.title).where(
        Episode.show_id == show_id, Episode.apple_playable.is_(False), Episode.audio_ready.is_(True)
    )
    titles = list(db.session.scalars(missing.order_by(Episode.id).limit(limit)))
    total = (
        len(titles)
        if len(titles) < limit
        else db.session.execute(select(func.count()).select_from(missing.subquery())).scalar_one()
    )
    return titles, total
