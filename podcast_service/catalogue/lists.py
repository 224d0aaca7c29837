"""A page of episodes read for a list: plain rows, and each episode's parts for the whole page at once.

`episode_rows()`/`listed()` give the episode's columns joined to its audio's
and waveform's as small objects under the models' attribute names, so the
API's serializer writes a listed episode and a model alike. `EpisodeParts`
reads what the JSON shows besides (image, transcript, master, audio job,
chapters, people, links, alternates) in one query per kind for the page.
Why lists avoid ORM objects: docs/architecture.md (lists).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased, joinedload

from ..core.extensions import db
from ..models import AlternateFile, AudioJob, Chapter, Credit, Episode, Link, MediaFile, Status, status_at, utcnow


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
    return (
        select(
            *(getattr(Episode, name) for name in _COLUMNS),
            *(getattr(audio, name) for name in _AUDIO),
            *(getattr(waveform, name) for name in _WAVEFORM),
        )
        .join(audio, audio.id == Episode.audio_id)
        .outerjoin(waveform, waveform.id == Episode.waveform_id)
    )


def listed(rows: list[Any]) -> list[ListedEpisode]:
    """The rows of episode_rows() as episodes the serializer writes."""
    own, audio = len(_COLUMNS), len(_COLUMNS) + len(_AUDIO)
    return [
        ListedEpisode(  # type: ignore[misc]  # row[:own] is the fields before audio and waveform
            *row[:own],
            audio=ListedFile(*row[own:audio]),
            waveform=None if row[audio] is None else ListedFile(*row[audio:]),
        )
        for row in rows
    ]


class Parts(NamedTuple):
    """One episode's parts."""

    image: MediaFile | None
    transcript: MediaFile | None
    master: MediaFile | None
    job: AudioJob | None
    chapters: Sequence[Any]
    credits: Sequence[Any]
    links: Sequence[Any]
    alternates: Sequence[AlternateFile]


@dataclass(frozen=True)
class EpisodeParts:
    """The parts of some episodes, by episode id."""

    parts: Mapping[int, Parts]

    @classmethod
    def read(cls, episodes: Sequence[Episode | ListedEpisode]) -> EpisodeParts:
        """Six queries at most for any number of episodes (none for none); lists in the order the models'
        relationships keep."""
        if not episodes:
            return cls({})
        ids = [e.id for e in episodes]
        wanted = {file_id for e in episodes for file_id in (e.image_id, e.transcript_id, e.master_id)} - {None}
        files: dict[int | None, MediaFile] = (
            {f.id: f for f in db.session.scalars(select(MediaFile).where(MediaFile.id.in_(wanted)))} if wanted else {}
        )
        jobs = {
            job.episode_id: job
            for job in db.session.scalars(
                select(AudioJob).options(joinedload(AudioJob.source)).where(AudioJob.episode_id.in_(ids))
            )
        }
        chapters = _by_episode(
            select(Chapter.episode_id, Chapter.start, Chapter.end, Chapter.title, Chapter.url),
            Chapter,
            ids,
            Chapter.start,
        )
        credits = _by_episode(
            select(Credit.episode_id, Credit.name, Credit.role, Credit.group, Credit.title, Credit.href, Credit.img),
            Credit,
            ids,
            Credit.position,
        )
        links = _by_episode(select(Link.episode_id, Link.title, Link.url, Link.rel), Link, ids, Link.position)
        alternates = _by_episode(
            select(AlternateFile).options(joinedload(AlternateFile.media)),
            AlternateFile,
            ids,
            AlternateFile.position,
            scalars=True,
        )
        return cls(
            {
                e.id: Parts(
                    files.get(e.image_id),
                    files.get(e.transcript_id),
                    files.get(e.master_id),
                    jobs.get(e.id),
                    chapters.get(e.id, ()),
                    credits.get(e.id, ()),
                    links.get(e.id, ()),
                    alternates.get(e.id, ()),
                )
                for e in episodes
            }
        )

    @classmethod
    def of(cls, episode: Episode) -> EpisodeParts:
        """One episode's, from its relationships (loaded with it, or read now)."""
        return cls(
            {
                episode.id: Parts(
                    episode.image,
                    episode.transcript,
                    episode.master,
                    episode.audio_job,
                    episode.chapters,
                    episode.credits,
                    episode.links,
                    episode.alternates,
                )
            }
        )

    def __getitem__(self, episode: Episode | ListedEpisode) -> Parts:
        return self.parts[episode.id]


def _by_episode(
    query: Any, model: Any, episode_ids: Sequence[int], order: Any, *, scalars: bool = False
) -> dict[int, list]:
    found: dict[int, list] = {}
    query = query.where(model.episode_id.in_(episode_ids)).order_by(model.episode_id, order, model.id)
    for row in (db.session.scalars if scalars else db.session.execute)(query):
        found.setdefault(row.episode_id, []).append(row)
    return found
