"""Service functions for shows and episodes: the one path every entry point takes.

They take plain inputs (no request objects), validate them through inputs.py,
and keep the database and the media store in agreement: objects stored during
a failed change are deleted again, and objects a successful change replaced
are deleted only after the commit.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import FromClause, Select, select
from sqlalchemy.orm import joinedload, selectinload

from ..core import urls
from ..core.errors import Conflict, PodcastServiceError, TooLarge, ValidationError
from ..core.extensions import db
from ..core.markup import render_markdown
from ..core.settings import current_settings
from ..jobs import jobs
from ..media.audio import probe as audio_probe
from ..media.storage import Storage, StoredObject, Stores, new_key
from ..media.storage.base import file_sha256
from ..models import AlternateFile, AudioJob, Chapter, Credit, Episode, Link, MediaFile, Show, utcnow
from . import images, transcripts
from .inputs import EpisodeInput, LinkInput, PersonInput, ShowInput, check_chapters

log = logging.getLogger(__name__)


def stores() -> Stores:
    return current_app.extensions["podcast_stores"]


def storage() -> Storage:
    """The store new files go to."""
    return stores().primary


def storage_of(row: Any) -> Storage:
    """The store holding a file's object: `row` is its MediaFile, or any record with its `backend`."""
    return stores()[row.backend]


@dataclass(frozen=True)
class Staged:
    """A file already in the store, waiting for its row in the change's write transaction."""

    stored: StoredObject
    path: Path


class MediaChange:
    """One unit of work over the database and the media store.

    Use through `media_change()`: it commits or rolls back the session and
    puts the store in the matching state. Large files (audio) are sent to the
    store with `upload` before the write transaction begins; `lock_show` then
    begins it by locking the show's row, so every change to one show takes
    its locks in the same order and holds them for milliseconds, however
    large the file.
    """

    def __init__(self, store: Storage) -> None:
        self.store = store
        self.stored: list[str] = []
        self.retired: list[tuple[str, str]] = []  # (backend, key)

    def upload(self, path: Path, *, kind: str, extension: str, mime_type: str, download_name: str) -> Staged:
        """Put the file in the store; no database work, so call it before `lock_show`."""
        key = new_key(kind, extension, private=self.store.separates_private)  # brought out once public
        with path.open("rb") as fh:
            self.stored.append(key)
            stored = self.store.put(key, fh, content_type=mime_type, download_name=download_name)
        return Staged(stored, path)

    def row(
        self,
        staged: Staged,
        *,
        extension: str,
        mime_type: str,
        audio: audio_probe.AudioInfo | None = None,
        original_name: str | None = None,
    ) -> MediaFile:
        """The MediaFile row of an uploaded file."""
        stored = staged.stored
        row = MediaFile(
            backend=self.store.name,
            key=stored.key,
            size=stored.size,
            sha256=stored.sha256,
            mime_type=mime_type,
            extension=extension,
            original_filename=(original_name or staged.path.name)[:255],
        )
        if audio is not None:
            row.duration, row.bitrate = audio.duration, audio.bitrate
            row.sample_rate, row.channels = audio.sample_rate, audio.channels
        db.session.add(row)
        return row

    def store_file(self, path: Path, *, kind: str, extension: str, mime_type: str, download_name: str) -> MediaFile:
        """Upload and add the row at once: for small files (art and transcripts, whose sizes are capped)."""
        staged = self.upload(path, kind=kind, extension=extension, mime_type=mime_type, download_name=download_name)
        return self.row(staged, extension=extension, mime_type=mime_type)

    def store_image(self, path: Path, download_stem: str, *, artwork: bool = True) -> MediaFile:
        """Store cover art; `artwork` holds it to Apple's rules (see images.py)."""
        info = images.inspect(path, artwork=artwork)
        return self.store_file(
            path,
            kind="images",
            extension=info.extension,
            mime_type=info.mime_type,
            download_name=f"{download_stem}{info.extension}",
        )

    def retire(self, row: MediaFile | None) -> None:
        """Forget a replaced file: its row now, its object once the change is committed."""
        if row is not None:
            self.retired.append((row.backend, row.key))
            db.session.delete(row)

    @staticmethod
    def lock_show(show: Show) -> None:
        """Begin the write transaction by locking the show's row (PostgreSQL; SQLite locks the whole file)."""
        db.session.execute(select(Show.id).where(Show.id == show.id).with_for_update())


def end_transaction() -> None:
    """End the read transaction that lookups began, so none stays open while files are probed or sent."""
    db.session.commit()


@contextmanager
def media_change() -> Iterator[MediaChange]:
    change = MediaChange(storage())
    try:
        yield change
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for key in change.stored:
            try:
                change.store.delete(key)
            except PodcastServiceError:
                log.exception("could not remove %s after a failed change; storage-check will find it", key)
        raise
    for backend, key in change.retired:
        try:
            stores()[backend].delete(key)
        except PodcastServiceError:
            log.exception("could not remove replaced object %s; storage-check will find it", key)


def _same_file(row: MediaFile | None, path: Path) -> bool:
    """Whether `path` holds the stored file's bytes; a size mismatch answers without hashing."""
    return row is not None and row.size == path.stat().st_size and row.sha256 == file_sha256(path)


def _credits(people: list[PersonInput]) -> list[Credit]:
    """Credits exactly as given: an empty link or picture stays empty."""
    return [
        Credit(name=p.name, href=p.href, img=p.img, role=p.role, group=p.group, title=p.title, position=i)
        for i, p in enumerate(people)
    ]


# The Podcast Index's namespace for podcast:guid values.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
# Apple's block/complete, moving, privacy and the Podcasting 2.0 channel settings: set as given.
FEED_SETTINGS = (
    "block",
    "complete",
    "private",
    "new_feed_url",
    "locked",
    "medium",
    "funding",
    "location_name",
    "location_geo",
    "location_osm",
    "license",
    "license_url",
    "update_frequency",
    "update_frequency_text",
    "txt",
    "podroll",
    "season_names",
    "subscribe_links",
    "measurement_prefix",
)
# How the audio job makes renditions from masters (audio_jobs.py).
AUDIO_SETTINGS = ("audio_bitrate", "audio_channels", "normalize_masters", "normalize_compressed")
SHOW_FIELDS = (
    "title",
    "description",
    "language",
    "author",
    "owner_name",
    "owner_email",
    "copyright",
    "website_url",
    "categories",
    "explicit",
    "show_type",
    *FEED_SETTINGS,
    *AUDIO_SETTINGS,
)


def podcast_guid(feed_url: str) -> str:
    """podcast:guid as the namespace defines it: UUIDv5 of the feed URL without scheme and trailing slashes."""
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, feed_url.split("://", 1)[-1].rstrip("/")))


def save_show(
    data: ShowInput,
    *,
    image: Path | None = None,
    fingerprint: str | None = None,
    new: bool = False,
    import_source: str | None = None,
    guid_proven: bool = True,
) -> Show:
    """Create the show with this slug, or update it in place (`new`: refuse to update).

    `import_source` records the feed a new show was imported from, `guid_proven` whether the import proved
    the feed (and so its podcast:guid) is the producer's (imports/feed.py).

    A new show's podcast:guid is set once, from its feed URL here or the one
    it had at its old host, and never recomputed: the show keeps its identity
    when it moves.
    """
    data = data.validated()
    show = db.session.scalar(select(Show).where(Show.slug == data.slug))
    if new and show is not None:
        raise Conflict(_("there is already a show with the slug %(slug)s", slug=repr(data.slug)))
    with media_change() as change:
        if show is not None:
            change.lock_show(show)
        else:
            show = Show(slug=data.slug, import_source=import_source, guid_proven=guid_proven)
            show.podcast_guid = data.podcast_guid or podcast_guid(urls.feed_url(show))
            db.session.add(show)
        for name in SHOW_FIELDS:
            setattr(show, name, getattr(data, name))
        show.credits = _credits(data.people)
        if image is not None and not _same_file(show.image, image):
            new_image = change.store_image(image, data.slug)
            change.retire(show.image)
            show.image = new_image
        show.source_fingerprint = fingerprint
    return show


def _set_transcript(change: MediaChange, episode: Episode, path: Path | None, remove: bool) -> None:
    """Store a new or changed transcript with its parsed cues; `remove` takes it away."""
    if path is None:
        if remove:
            change.retire(episode.transcript)
            episode.transcript, episode.transcript_cues = None, None
        return
    unchanged = _same_file(episode.transcript, path)
    if unchanged and episode.transcript_cues is not None:
        return
    if path.stat().st_size > transcripts.MAX_BYTES:
        raise TooLarge(_("the transcript is larger than %(most)s MB", most=transcripts.MAX_BYTES // 1048576))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationError(_("a transcript must be UTF-8 text (WebVTT or SRT)")) from None
    cues = transcripts.parse(text)
    if not unchanged:
        fmt = transcripts.detect_format(text)
        change.retire(episode.transcript)
        episode.transcript = change.store_file(
            path,
            kind="transcripts",
            extension=f".{fmt}",
            mime_type=transcripts.FORMATS[fmt],
            download_name=f"{episode.slug}.{fmt}",
        )
    episode.transcript_cues = [[c.start, c.end, c.text] for c in cues]


def title_from_file(info: audio_probe.AudioInfo, filename: str | None) -> str:
    """A title for an upload that came without one: its tag, else its file name made readable."""
    if info.title:
        return info.title
    stem = Path(filename or "").stem.replace("_", " ").replace("-", " ")
    return " ".join("".join(ch for ch in stem if ch.isprintable()).split()) or "Untitled episode"


def people_inputs(credits: list[Credit]) -> list[PersonInput]:
    """Stored credits (of a show or an episode) as the inputs that would recreate them."""
    return [
        PersonInput(name=c.name, role=c.role, group=c.group, title=c.title, href=c.href, img=c.img) for c in credits
    ]


def episode_input(episode: Episode) -> EpisodeInput:
    """The episode's current fields, to change some of them with dataclasses.replace()."""
    return EpisodeInput(
        title=episode.title,
        slug=episode.slug,
        summary=episode.summary,
        notes=episode.notes,
        published_at=episode.published_at,
        withdrawn=episode.withdrawn_at is not None,
        season=episode.season,
        number=episode.number,
        episode_type=episode.episode_type,
        explicit=episode.explicit,
        guid=episode.guid,
        soundbites=episode.soundbites,
        people=people_inputs(episode.credits),
        links=[LinkInput(title=link.title, url=link.url, rel=link.rel) for link in episode.links],
    )


@dataclass(frozen=True)
class _NewAudio:
    """An audio file given with a save, probed."""

    path: Path
    info: audio_probe.AudioInfo
    name: str | None  # the producer's file name, when `path` is a spool


@dataclass(frozen=True)
class _EpisodePlan:
    """What a save will write, worked out before any file is stored or any row locked."""

    data: EpisodeInput
    audio: _NewAudio | None  # given audio, probed; None when the episode keeps its audio
    replaces_audio: bool  # the given audio differs from the episode's
    chapters: list[audio_probe.ChapterInfo] | None  # None: as they are
    renditions: list[tuple[Path, audio_probe.AudioInfo]] | None  # None: as they are
    kept_renditions: set[int]
    new_renditions: list[tuple[Path, audio_probe.AudioInfo]]


def save_episode(
    show: Show,
    data: EpisodeInput,
    audio: Path | None = None,
    *,
    existing: Episode | None = None,
    fingerprint: str | None = None,
    audio_name: str | None = None,
    idempotency_key: str | None = None,
) -> Episode:
    """Create an episode (audio required), or update `existing`; its guid never changes.

    Given audio is probed before anything is stored, so an unreadable file
    leaves no trace. Fields the producer left empty come from the file's tags:
    the title, the summary (its comment), the chapters and the cover art. A
    new audio file gets a new key; the old object is removed after the commit.
    `audio_name` is the name the producer's file had, when `audio` is a spool.
    """
    if audio is None and existing is None:
        raise ValidationError(_("a new episode needs an audio file"))
    end_transaction()
    plan = _plan_episode(show, data, audio, audio_name, existing)
    end_transaction()
    with media_change() as change:
        # The large files first, with no transaction open; then the write transaction, show row first.
        staged_audio = _stage_audio(change, plan)
        staged_renditions = [
            (
                change.upload(
                    p,
                    kind="audio",
                    extension=i.extension,
                    mime_type=i.mime_type,
                    download_name=f"{plan.data.slug}{i.extension}",
                ),
                i,
            )
            for p, i in plan.new_renditions
        ]
        change.lock_show(show)
        episode = existing or Episode(show=show, guid=data.guid or str(uuid.uuid4()), idempotency_key=idempotency_key)
        if existing is None:
            db.session.add(episode)
        _write_fields(episode, plan.data)
        job = _write_audio(change, episode, plan, staged_audio, replacing=existing is not None)
        _write_files(change, episode, plan, staged_renditions)
        _write_parts(episode, plan)
        episode.source_fingerprint = fingerprint
        show.updated_at = utcnow()
        db.session.flush()  # ids, read before the commit expires the rows
        episode_id, job_id = episode.id, job.id if job is not None else None
    if job_id is not None:
        end_transaction()  # and expire what this session read: a job in immediate mode changes the rows
        queue_audio_job(job_id)
    return reloaded(episode_id)


def _probe(path: Path) -> audio_probe.AudioInfo:
    """A producer's file probed, and refused if it lasts longer than `max_audio_hours`: a small file of hours of
    silence would otherwise keep a worker encoding for minutes."""
    return audio_probe.probe(path, max_seconds=current_settings().max_audio_hours * 3600)


def _plan_episode(
    show: Show, data: EpisodeInput, audio: Path | None, audio_name: str | None, existing: Episode | None
) -> _EpisodePlan:
    """Probe what was given, fill what the producer left empty from the audio's tags, and check every rule
    that needs the audio's length or the show's other episodes."""
    new_audio = None
    if audio is not None:
        info = _probe(audio)
        new_audio = _NewAudio(audio, info, audio_name)
        data = replace(
            data,
            title=data.title or title_from_file(info, audio_name or audio.name),
            summary=data.summary or info.comment or "",
        )
    data = data.validated()
    if new_audio is not None:
        duration = new_audio.info.duration
    else:
        assert existing is not None  # save_episode refuses a new episode without audio
        duration = existing.audio.duration or 0
    chapters = None  # as they are, unless given or read from new audio
    if data.chapters is not None:
        chapters = check_chapters(data.chapters, duration)
    elif new_audio is not None:
        chapters = check_chapters(new_audio.info.chapters, duration)
    for start, length, title in data.soundbites:
        if start + length > duration:
            raise ValidationError(
                _("soundbite %(name)s ends after the audio (%(end).3f s)", name=repr(title or start), end=duration)
            )
    renditions = None if data.alternates is None else [(p, _probe(p)) for p in data.alternates]
    for _path, rendition in renditions or ():
        _check_rendition(rendition, duration)
    _check_unique(show, data, existing)
    replaces_audio = new_audio is not None and not _same_file(existing.audio if existing else None, new_audio.path)
    kept, added = _rendition_changes(existing, renditions)
    return _EpisodePlan(data, new_audio, replaces_audio, chapters, renditions, kept, added)


def _check_unique(show: Show, data: EpisodeInput, existing: Episode | None) -> None:
    """No two episodes of a show share a slug or a guid."""
    clash = db.session.scalar(select(Episode).where(Episode.show_id == show.id, Episode.slug == data.slug))
    if clash is not None and clash is not existing:
        raise Conflict(_("the show already has an episode with the slug %(slug)s", slug=repr(data.slug)))
    if (
        data.guid
        and existing is None
        and db.session.scalar(select(Episode.id).where(Episode.show_id == show.id, Episode.guid == data.guid))
        is not None
    ):
        raise Conflict(_("the show already has an episode with the guid %(guid)s", guid=repr(data.guid)))


def _stage_audio(change: MediaChange, plan: _EpisodePlan) -> Staged | None:
    """The given audio stored under a new key, when it replaces the episode's."""
    if plan.audio is None or not plan.replaces_audio:
        return None
    info = plan.audio.info
    return change.upload(
        plan.audio.path,
        kind="audio",
        extension=info.extension,
        mime_type=info.mime_type,
        download_name=f"{plan.data.slug}{info.extension}",
    )


def _write_fields(episode: Episode, data: EpisodeInput) -> None:
    """The producer's own fields, the rendered notes, and a takedown or its end."""
    for name in (
        "title",
        "slug",
        "summary",
        "notes",
        "published_at",
        "season",
        "number",
        "episode_type",
        "explicit",
        "soundbites",
    ):
        setattr(episode, name, getattr(data, name))
    episode.notes_html = str(render_markdown(data.notes))
    if not data.withdrawn:
        episode.withdrawn_at = None
    elif episode.withdrawn_at is None:
        episode.withdrawn_at = utcnow()
        episode.preview_key = new_preview_key()  # a takedown ends every preview link given out


def _write_audio(
    change: MediaChange, episode: Episode, plan: _EpisodePlan, staged: Staged | None, *, replacing: bool
) -> AudioJob | None:
    """The staged audio becomes the episode's, the old one retired; its audio job, to queue after the commit."""
    if staged is None or plan.audio is None:
        return None
    if replacing:
        _retire_audio(change, episode)
    info = plan.audio.info
    episode.audio = change.row(
        staged, extension=info.extension, mime_type=info.mime_type, audio=info, original_name=plan.audio.name
    )
    return plan_audio_job(episode, episode.audio)


def _write_files(
    change: MediaChange,
    episode: Episode,
    plan: _EpisodePlan,
    staged_renditions: list[tuple[Staged, audio_probe.AudioInfo]],
) -> None:
    """Art, transcript and renditions, each as given or as before."""
    _set_image(change, episode, plan.data, plan.audio.info.cover if plan.audio is not None else None)
    _set_transcript(change, episode, plan.data.transcript, plan.data.remove_transcript)
    if plan.renditions is not None:
        for alternate in list(episode.alternates):
            if alternate.id not in plan.kept_renditions:
                _drop_rendition(change, episode, alternate)
        for staged, rendition in staged_renditions:
            _add_rendition(change, episode, staged, rendition, staged.path.name)
    _mark_playable(episode)


def _write_parts(episode: Episode, plan: _EpisodePlan) -> None:
    """Chapters (when given or read from new audio), links and people, exactly as given."""
    if plan.chapters is not None:
        episode.chapters = [Chapter(start=c.start, end=c.end, title=c.title, url=c.url) for c in plan.chapters]
    episode.links = [
        Link(title=link.title, url=link.url, rel=link.rel, position=i) for i, link in enumerate(plan.data.links)
    ]
    episode.credits = _credits(plan.data.people)


def reloaded(episode_id: int) -> Episode:
    """The episode as committed now, its files read in the same statement as its row: read one by one,
    a replacement committed in between could leave the episode pointing at a file already gone."""
    query = (
        select(Episode)
        .options(*episode_details())
        .where(Episode.id == episode_id)
        .execution_options(populate_existing=True)
    )
    episode = db.session.scalar(query)
    if episode is None:
        raise Conflict(_("the episode was deleted meanwhile"))
    return episode


def needs_encoding(show: Show, source: MediaFile) -> bool:
    """Whether an upload is a master to make renditions from: all but MP3 and AAC, unless the show
    asks for those to be brought to the loudness target too."""
    return source.extension not in audio_probe.APPLE_PLAYABLE or show.normalize_compressed


def plan_audio_job(episode: Episode, source: MediaFile) -> AudioJob:
    """The audio job for a new upload (or to process one again), in the transaction that stores it.

    A new master keeps the episode from listeners until its renditions exist;
    an MP3 or AAC upload plays at once and is only measured (audio_jobs.py).
    """
    encode = needs_encoding(episode.show, source)
    # Renditions made again from the same master: the current ones play meanwhile.
    episode.audio_ready = not encode or (episode.audio is not source and episode.audio_ready)
    episode.master = source if encode else None
    with db.session.no_autoflush:  # the old job still points at the file this upload replaces
        job = episode.audio_job or AudioJob()
    job.source, job.encode, job.state, job.progress, job.attempts = source, encode, "queued", 0.0, 0
    job.error = job.lease_token = job.lease_until = job.gain = job.finished_at = None
    job.created_at = utcnow()
    episode.audio_job = job
    return job


def process_again(episode: Episode) -> Episode:
    """Run the episode's audio job again: after a failure, or to make renditions with changed settings.

    The source is the master where there is one, else the audio served. A
    job still running is left alone (its renditions are about to arrive).
    """
    job = episode.audio_job
    if job is not None and job.state in ("queued", "running"):
        raise Conflict(_("the audio is already being processed"))
    with media_change() as change:
        change.lock_show(episode.show)
        job = plan_audio_job(episode, episode.master or episode.audio)
    episode_id, job_id = episode.id, job.id
    end_transaction()
    queue_audio_job(job_id)
    return reloaded(episode_id)


def queue_audio_job(job_id: int) -> None:
    """Hand the job to the workers, once its row is committed for them to read."""
    jobs().enqueue("process_audio", job_id, what=f"audio job {job_id}")


def _retire_audio(change: MediaChange, episode: Episode) -> None:
    """Forget the audio an upload replaces: the file served, its master, waveform and generated renditions.
    (Read all before forgetting any: a flush in between would delete a file that rows still point to.
    The job row stays, for plan_audio_job to point at the new upload in the same flush.)"""
    with db.session.no_autoflush:
        files = [episode.audio, episode.master if episode.master is not episode.audio else None, episode.waveform]
        generated = [a for a in episode.alternates if a.generated]
        episode.master = episode.waveform = None
        for row in files:
            change.retire(row)
        for alternate in generated:
            _drop_rendition(change, episode, alternate)


def _rendition_changes(
    existing: Episode | None, wanted: list[tuple[Path, audio_probe.AudioInfo]] | None
) -> tuple[set[int], list[tuple[Path, audio_probe.AudioInfo]]]:
    """(ids of the episode's alternates to keep, files to add) for the alternates to become exactly `wanted`."""
    if wanted is None:
        return set(), []
    remaining, kept = list(wanted), set()
    for alternate in existing.alternates if existing is not None else []:
        match = next((w for w in remaining if _same_file(alternate.media, w[0])), None)
        if match is not None:
            remaining.remove(match)
            kept.add(alternate.id)
    return kept, remaining


def _set_image(change: MediaChange, episode: Episode, data: EpisodeInput, cover: audio_probe.Cover | None) -> None:
    """An episode's art: the given file, else the cover embedded in given audio, else as before.

    `remove_image` without either clears it (the episode then shows the show's art).
    """
    if data.image is not None:
        if _same_file(episode.image, data.image):
            return
        new_image = change.store_image(data.image, episode.slug)
        change.retire(episode.image)
        episode.image = new_image
        return
    if cover is None:
        if data.remove_image:
            change.retire(episode.image)
            episode.image = None
        return
    digest = hashlib.sha256(cover.data).hexdigest()
    if episode.image is not None and episode.image.sha256 == digest:
        return
    if episode.show.image is not None and episode.show.image.sha256 == digest:
        # The show's own art, embedded in the file: the episode simply inherits it.
        change.retire(episode.image)
        episode.image = None
        return
    with tempfile.TemporaryDirectory() as tmp:
        art = Path(tmp) / f"cover{cover.extension}"
        art.write_bytes(cover.data)
        try:
            new_image = change.store_image(art, episode.slug, artwork=False)
        except ValidationError as e:
            log.warning("episode %s: embedded cover art ignored: %s", episode.slug, e)
            return
        change.retire(episode.image)
        episode.image = new_image


def _check_rendition(info: audio_probe.AudioInfo, episode_duration: float) -> None:
    """A rendition must be the same recording: the same length within a second, or apps seek wrong."""
    if abs(info.duration - episode_duration) > 1.0:
        raise ValidationError(
            _(
                "the alternate file plays %(file).1f s but the episode's audio %(audio).1f s; it must "
                "be the same recording",
                file=info.duration,
                audio=episode_duration,
            )
        )


def _add_rendition(
    change: MediaChange, episode: Episode, staged: Staged, info: audio_probe.AudioInfo, filename: str | None
) -> None:
    row = change.row(staged, extension=info.extension, mime_type=info.mime_type, audio=info, original_name=filename)
    position = max((a.position for a in episode.alternates), default=-1) + 1
    episode.alternates.append(AlternateFile(media=row, title=info.format.upper(), position=position))


def _drop_rendition(change: MediaChange, episode: Episode, alternate: AlternateFile) -> None:
    episode.alternates.remove(alternate)
    change.retire(alternate.media)


def _mark_playable(episode: Episode) -> None:
    """Keep `apple_playable` true to the episode's files (apple.show_warnings reads it)."""
    episode.apple_playable = any(f.extension in audio_probe.APPLE_PLAYABLE for f in episode.audio_files())


def add_alternate(episode: Episode, path: Path, filename: str | None = None) -> AlternateFile:
    """Another rendition of the episode's audio (Opus beside MP3, say), probed like the main file."""
    end_transaction()
    info = _probe(path)
    _check_rendition(info, episode.audio.duration or 0)
    if any(_same_file(f, path) for f in episode.audio_files()):
        raise Conflict(
            _(
                "the episode already has this file (%(format)s at %(bitrate)s kb/s)",
                format=info.format.upper(),
                bitrate=info.bitrate // 1000,
            )
        )
    download_name = f"{episode.slug}{info.extension}"
    end_transaction()
    with media_change() as change:
        staged = change.upload(
            path, kind="audio", extension=info.extension, mime_type=info.mime_type, download_name=download_name
        )
        change.lock_show(episode.show)
        _add_rendition(change, episode, staged, info, filename)
        _mark_playable(episode)
        episode.show.updated_at = utcnow()
    return episode.alternates[-1]


def remove_alternate(episode: Episode, alternate: AlternateFile) -> None:
    with media_change() as change:
        change.lock_show(episode.show)
        _drop_rendition(change, episode, alternate)
        _mark_playable(episode)
        episode.show.updated_at = utcnow()


def new_preview_key() -> str:
    return secrets.token_urlsafe(32)


def rotate_preview_link(episode: Episode) -> None:
    """A new private preview link for the episode; the old one stops working at once."""
    episode.preview_key = new_preview_key()
    db.session.commit()


def listed() -> Select:
    """The columns a row of the admin's episode list prints, read as plain rows (`row.title`,
    `row.duration`, `status_at(row, now)`), as cards() are for the public lists: not the show notes
    (kilobytes each, twice) nor the two dozen other columns, and no ORM object built for each row."""
    return select(Episode.id, Episode.title, Episode.published_at, Episode.withdrawn_at, MediaFile.duration).join(
        MediaFile, MediaFile.id == Episode.audio_id
    )


def cards(source: FromClause | None = None) -> Select:
    """The columns a card of a public list prints (the show page, search results), read as plain rows
    (`row.title`, `row.duration`): building ORM objects for a page of fifty episodes costs more than
    writing the page. `source`: a join that leads to the episodes (search's ranked matches)."""
    episodes = Episode.__table__ if source is None else source
    return select(
        Episode.id, Episode.slug, Episode.title, Episode.summary, Episode.published_at, MediaFile.duration
    ).select_from(episodes.join(MediaFile.__table__, MediaFile.id == Episode.audio_id))


def published_query(show: Show, now: datetime | None = None) -> Select:
    """The show's episodes a listener may see, newest first, as cards."""
    return (
        cards()
        .where(Episode.show_id == show.id, Episode.public_at(now or utcnow()))
        .order_by(Episode.published_at.desc(), Episode.id.desc())
    )


def episode_details() -> tuple:
    """Loader options for one episode and all its JSON shows (a list's page reads them with
    lists.py instead).

    Its audio and waveform are joined to its row; its other files, audio job,
    chapters, people, links and alternates are each read by id in one query
    when the episode has one. Only those two are joined: with all seven of an
    episode's files and job joined, PostgreSQL spent 15 ms planning each page
    (it weighs every order of the joins) to run it in 0.3.
    """
    return (
        joinedload(Episode.audio),
        joinedload(Episode.waveform),
        selectinload(Episode.image),
        selectinload(Episode.transcript),
        selectinload(Episode.master),
        selectinload(Episode.audio_job).joinedload(AudioJob.source),
        selectinload(Episode.chapters),
        selectinload(Episode.credits),
        selectinload(Episode.links),
        selectinload(Episode.alternates).joinedload(AlternateFile.media),
    )


def delete_episode(episode: Episode) -> None:
    """Remove the episode's row and, once that is committed, its stored objects."""
    files = episode.media_files()
    with media_change() as change:
        change.lock_show(episode.show)
        db.session.delete(episode)
        db.session.flush()  # the episode's row goes first: it references the files
        for row in files:
            change.retire(row)
