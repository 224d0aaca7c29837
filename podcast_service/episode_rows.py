"""A list's page of episodes as plain rows: what the API's episode list and the CLI's list-episodes write.

Read as models, every episode of a page cost SQLAlchemy an Episode and two
MediaFile objects (its audio and its waveform), each with every column
converted and tracked in the session, though a list only reads them: about
60 µs an episode, the larger part of what each further episode added to a
page (bench/scale.py; on SQLite the API list's first page of 50 then cost
1.7 times its page of 10). Here the page is one select of the columns
api/serialize.py reads, the episode's joined to its audio's and its
waveform's, and each row becomes a small object under the models' attribute
names, so the same serializer writes a listed episode and a model, and
episode_parts.py reads the rest for the page as it does for models.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from .models import Episode, MediaFile, Status, status_at, utcnow


@dataclass(slots=True)
class ListedFile:
    """An episode's audio (every field) or waveform (its address only), as MediaFile names them."""

    public_id: str
    extension: str
    size: int | None = None
    mime_type: str | None = None
    duration: float | None = None
    loudness: float | None = None
    true_peak: float | None = None


@dataclass(slots=True)
class ListedEpisode:
    """The columns of an episode that its JSON reads, under the model's names; the files it is joined to."""

    id: int
    slug: str
    guid: str
    title: str
    summary: str
    notes: str
    published_at: datetime | None
    withdrawn_at: datetime | None
    season: int | None
    number: int | None
    episode_type: str
    explicit: bool
    audio_ready: bool
    apple_playable: bool
    soundbites: list
    preview_key: str
    image_id: int | None
    transcript_id: int | None
    master_id: int | None
    audio: ListedFile
    waveform: ListedFile | None

    @property
    def status(self) -> Status:
        return status_at(self, utcnow())


_COLUMNS = tuple(f.name for f in fields(ListedEpisode))[:-2]
_AUDIO = tuple(f.name for f in fields(ListedFile))
_WAVEFORM = _AUDIO[:2]


def episode_rows() -> Select:
    """Every episode's row with its audio's and waveform's: add the show and the order."""
    audio, waveform = aliased(MediaFile), aliased(MediaFile)
    return (select(*(getattr(Episode, name) for name in _COLUMNS), *(getattr(audio, name) for name in _AUDIO),
                   *(getattr(waveform, name) for name in _WAVEFORM))
            .join(audio, audio.id == Episode.audio_id).outerjoin(waveform, waveform.id == Episode.waveform_id))


def listed(rows: list[Any]) -> list[ListedEpisode]:
    """The rows of episode_rows() as episodes the serializer writes."""
    own, audio = len(_COLUMNS), len(_COLUMNS) + len(_AUDIO)
    return [ListedEpisode(*row[:own], audio=ListedFile(*row[own:audio]),
                          waveform=None if row[audio] is None else ListedFile(*row[audio:]))
            for row in rows]
