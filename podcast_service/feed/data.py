"""What a feed shows of each published episode, loaded in four plain queries.

A feed lists every episode, thousands for an old show; building ORM objects
for each episode, file, chapter and credit cost more than feedgen's own work.
These queries read only the columns the feed prints into small frozen
records, so a rebuild costs little more than feedgen itself (bench/feed.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import select

from ..core.extensions import db
from ..core.xmltext import clean_all
from ..media.audio.probe import APPLE_PLAYABLE
from ..models import AlternateFile, Chapter, Credit, Episode, MediaFile, Show
from .podcast_ns import Person


class File(NamedTuple):
    public_id: str
    extension: str
    size: int
    mime_type: str
    bitrate: int | None


class FeedEpisode(NamedTuple):
    guid: str
    slug: str
    title: str
    summary: str
    notes_html: str
    published_at: datetime
    season: int | None
    number: int | None
    episode_type: str
    explicit: bool
    duration: float
    image: File | None
    has_transcript: bool
    has_chapters: bool
    soundbites: list
    people: list[Person]
    files: list[File]  # the main audio first, then the alternates

    @property
    def apple_file(self) -> File | None:
        return apple_file(self.files)


def apple_file(files: list[File]) -> File | None:
    """The file Apple Podcasts gets as the enclosure: the first MP3 or M4A rendition, if any."""
    return next((f for f in files if f.extension in APPLE_PLAYABLE), None)


def feed_show(show: Show) -> Any:
    """The show's columns, cover and people as the feed prints them, every text XML-safe (core/xmltext.py)."""
    values = {column.key: getattr(show, column.key) for column in Show.__table__.columns}
    values["people"] = [Person(c.name, c.role, c.group, c.img, c.href) for c in show.credits]
    values = clean_all(values)
    values["image"] = show.image
    return SimpleNamespace(**values)


_FILE_COLUMNS = ("public_id", "extension", "size", "mime_type", "bitrate")


def _file_columns(table) -> list:  # noqa: ANN001
    return [table.c[name] for name in _FILE_COLUMNS]


def feed_episodes(show: Show, now: datetime) -> list[FeedEpisode]:
    """The show's published episodes, newest first, as the feed prints them.

    Chapters, credits and alternates are read for all the show's episodes
    (a join on its id is cheaper than repeating the publication test) and
    kept for the published ones. Core statements on the session's connection
    skip the ORM's per-row work.
    """
    connection = db.session.connection()
    episode, media = Episode.__table__, MediaFile.__table__
    audio, image = media.alias("audio"), media.alias("image")
    rows = connection.execute(
        select(
            episode.c.id,
            episode.c.guid,
            episode.c.slug,
            episode.c.title,
            episode.c.summary,
            episode.c.notes_html,
            episode.c.published_at,
            episode.c.season,
            episode.c.number,
            episode.c.episode_type,
            episode.c.explicit,
            audio.c.duration,
            episode.c.transcript_id,
            episode.c.soundbites,
            *_file_columns(audio),
            *_file_columns(image),
        )
        .join(audio, audio.c.id == episode.c.audio_id)
        .outerjoin(image, image.c.id == episode.c.image_id)
        .where(episode.c.show_id == show.id, Episode.public_at(now))
        .order_by(episode.c.published_at.desc(), episode.c.id.desc())
    ).all()
    of_show = episode.c.show_id == show.id
    chapters = Chapter.__table__
    with_chapters = set(
        connection.execute(
            select(chapters.c.episode_id).distinct().join(episode, episode.c.id == chapters.c.episode_id).where(of_show)
        )
        .scalars()
        .all()
    )
    credits = Credit.__table__
    people: dict[int, list[Person]] = defaultdict(list)
    for episode_id, *person in connection.execute(
        select(credits.c.episode_id, credits.c.name, credits.c.role, credits.c.group, credits.c.img, credits.c.href)
        .join(episode, episode.c.id == credits.c.episode_id)
        .where(of_show)
        .order_by(credits.c.episode_id, credits.c.position)
    ).all():
        people[episode_id].append(Person(*person))
    alternate = AlternateFile.__table__
    alternates: dict[int, list[File]] = defaultdict(list)
    for episode_id, *file in connection.execute(
        select(alternate.c.episode_id, *_file_columns(media))
        .join(episode, episode.c.id == alternate.c.episode_id)
        .join(media, media.c.id == alternate.c.media_id)
        .where(of_show)
        .order_by(alternate.c.episode_id, alternate.c.position)
    ).all():
        alternates[episode_id].append(File(*file))
    return [
        clean_all(
            FeedEpisode(  # type: ignore[call-arg]  # r[1:11] is guid .. explicit, as selected
                *r[1:11],
                r[11] or 0,
                File(*r[19:24]) if r[19] is not None else None,
                r[12] is not None,
                r[0] in with_chapters,
                r[13],
                people.get(r[0], []),
                [File(*r[14:19]), *alternates.get(r[0], ())],
            )
        )
        for r in rows
    ]
