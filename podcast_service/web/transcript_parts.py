"""The transcript on an episode's page, shown in parts so a page view costs the same for any length.

A three-hour interview has thousands of cues; the page shows PART_SIZE of
them (`?transcript=2` for the next ones) and links to the whole file. The
parsed cues are kept per process, by the transcript file's key: a key is
never reused (a new transcript is a new file), so what is kept cannot go
stale, and a page view neither reads nor decodes the whole transcript.
"""

from __future__ import annotations

import functools

from flask_babel import gettext as _
from sqlalchemy import select

from ..catalogue import transcripts
from ..core.errors import NotFound
from ..core.extensions import db
from ..core.pagination import Page, page_number
from ..models import Episode, TranscriptCues

PART_SIZE = 200


@functools.lru_cache(maxsize=64)
def _cues(transcript_key: str, episode_id: int) -> tuple[transcripts.Cue, ...]:
    rows = db.session.scalar(select(TranscriptCues.cues).where(TranscriptCues.episode_id == episode_id))
    return tuple(transcripts.Cue(*cue) for cue in rows or ())


def part(episode: Episode, number: str | None) -> Page | None:
    """Part `number` (from 1) of the episode's cues; None without a transcript; NotFound past the last."""
    if episode.transcript is None:
        return None
    cues = _cues(episode.transcript.key, episode.id)
    if not cues:
        return None
    n = page_number(number)
    start = (n - 1) * PART_SIZE
    if start >= len(cues):
        raise NotFound(_("the transcript has no part %(number)s", number=n))
    return Page(list(cues[start : start + PART_SIZE]), n, PART_SIZE, start + PART_SIZE < len(cues))
