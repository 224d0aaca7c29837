"""What an episode's JSON shows besides its row, its audio and its waveform, read for a page of episodes at once.

Those parts are its image, transcript and master files, its audio job, and
its chapters, people, links and alternate renditions. Loaded as
relationships (selectinload), SQLAlchemy sets each of them on every episode
of a page, empty collections and missing files too, and builds an ORM
object for every chapter, person and link: more than half of what a page of
the API's episode list cost (bench/scale.py). Read here, in one query per
kind for the whole page and kept in plain dictionaries by episode, a page
costs what its rows hold. Chapters, people and links come as plain rows
(the serializers read the same attribute names from them as from the
models); files, jobs and alternates stay ORM objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .episode_rows import ListedEpisode
from .extensions import db
from .models import AlternateFile, AudioJob, Chapter, Credit, Episode, Link, MediaFile


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
        files = {f.id: f for f in db.session.scalars(select(MediaFile).where(MediaFile.id.in_(wanted)))} \
            if wanted else {}
        jobs = {job.episode_id: job for job in db.session.scalars(
            select(AudioJob).options(joinedload(AudioJob.source)).where(AudioJob.episode_id.in_(ids)))}
        chapters = _by_episode(select(Chapter.episode_id, Chapter.start, Chapter.end, Chapter.title, Chapter.url),
                               Chapter, ids, Chapter.start)
        credits = _by_episode(select(Credit.episode_id, Credit.name, Credit.role, Credit.group, Credit.title,
                                     Credit.href, Credit.img), Credit, ids, Credit.position)
        links = _by_episode(select(Link.episode_id, Link.title, Link.url, Link.rel), Link, ids, Link.position)
        alternates = _by_episode(select(AlternateFile).options(joinedload(AlternateFile.media)), AlternateFile, ids,
                                 AlternateFile.position, scalars=True)
        return cls({e.id: Parts(files.get(e.image_id), files.get(e.transcript_id), files.get(e.master_id),
                                jobs.get(e.id), chapters.get(e.id, ()), credits.get(e.id, ()), links.get(e.id, ()),
                                alternates.get(e.id, ()))
                    for e in episodes})

    @classmethod
    def of(cls, episode: Episode) -> EpisodeParts:
        """One episode's, from its relationships (loaded with it, or read now)."""
        return cls({episode.id: Parts(episode.image, episode.transcript, episode.master, episode.audio_job,
                                      episode.chapters, episode.credits, episode.links, episode.alternates)})

    def __getitem__(self, episode: Episode | ListedEpisode) -> Parts:
        return self.parts[episode.id]


def _by_episode(query: Any, model: Any, episode_ids: Sequence[int], order: Any, *,
                scalars: bool = False) -> dict[int, list]:
    found: dict[int, list] = {}
    query = query.where(model.episode_id.in_(episode_ids)).order_by(model.episode_id, order, model.id)
    for row in (db.session.scalars if scalars else db.session.execute)(query):
        found.setdefault(row.episode_id, []).append(row)
    return found
