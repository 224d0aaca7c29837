"""The audio job: measure an upload, and make the files apps play where it is a master.

An upload is stored and probed in its request; this runs afterwards on a
worker (jobs.py). The AudioJob row is the truth, the queue only carries its
id: a worker claims the row with a lease and renews it with each progress
report, so a worker killed mid-way loses the job to the next sweep, and a
late or duplicate run finds the row taken or done and does nothing. Results
are written only under the lease that made them, and only if the episode
still has the audio the job started from; otherwise what it stored is
deleted again. No transaction stays open while audio is decoded or sent.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from .. import jobs
from ..core import urls
from ..core.errors import MediaError
from ..core.extensions import db
from ..core.leases import LeaseLost, Leases
from ..core.settings import current_settings
from ..media.audio import id3, process
from ..media.audio import probe as audio_probe
from ..media.storage.base import iter_chunks
from ..models import AlternateFile, AudioJob, Episode, MediaFile, Show, utcnow
from .lists import ListedEpisode
from .service import Staged, media_change, storage_of

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
# Where the measuring pass ends and the encoding pass begins, in the progress a producer sees.
ANALYSIS_SHARE = 0.3


def settings_of(show: Show, source_extension: str) -> process.EncodeSettings:
    """The show's rendition settings; an MP3 or AAC upload is encoded again only to be normalised.

    The MP3 is encoded by the ffmpeg command line where `ffmpeg_path` finds one (three times faster),
    else by PyAV's own FFmpeg.
    """
    compressed = source_extension in audio_probe.APPLE_PLAYABLE
    configured = current_settings().ffmpeg_path
    return process.EncodeSettings(
        mp3_kbps=show.audio_bitrate,
        opus_kbps=max(16, show.audio_bitrate // 2),
        channels=show.audio_channels,
        normalize=show.normalize_compressed if compressed else show.normalize_masters,
        ffmpeg=shutil.which(configured) if configured else None,
    )


def _lease_seconds() -> int:
    return current_settings().job_lease_seconds


LEASES = Leases(AudioJob, _lease_seconds)


def claim(job_id: int) -> str | None:
    """Take the job if it waits or its worker's lease ran out; the lease token, or None if it is not ours."""
    return LEASES.claim(
        (AudioJob.id == job_id) & AudioJob.state.in_(("queued", "running")),
        state="running",
        attempts=AudioJob.attempts + 1,
        error=None,
    )


class _Heartbeat:
    """Progress reports that also renew the lease: at most one write every HEARTBEAT_SECONDS, and at least
    four per lease, so a busy moment never lets a live job's lease run out."""

    def __init__(self, job_id: int, token: str) -> None:
        self.job_id, self.token, self.last = job_id, token, 0.0
        self.interval = min(HEARTBEAT_SECONDS, _lease_seconds() / 4)

    def __call__(self, fraction: float, force: bool = False) -> None:
        if not force and time.monotonic() - self.last < self.interval:
            return
        self.last = time.monotonic()
        if not LEASES.renew(self.token, progress=round(min(1.0, fraction), 3)):
            raise LeaseLost(self.job_id)


@jobs.task("process_audio", retries=jobs.RETRIES)
def run(job_id: int) -> None:
    """Do the job if it is ours to do (see the module's docstring)."""
    token = claim(job_id)
    if token is None:
        log.info("audio job %s: already taken or finished", job_id)
        return
    job = db.session.get(AudioJob, job_id)
    if job is None:  # the episode was deleted since the claim
        return
    source = job.source
    # Plain values: once the session commits, a replacement committed meanwhile may delete these rows.
    source_id, source_key, extension, store = source.id, source.key, source.extension, storage_of(source)
    encode, duration = job.encode, source.duration or 0.0
    settings = settings_of(job.episode.show, extension)
    tags = _tags(job.episode, duration) if encode else None
    db.session.commit()  # nothing stays open while the audio is read
    beat = _Heartbeat(job_id, token)
    try:
        with tempfile.TemporaryDirectory(prefix="podcast-audio-") as tmp:
            work = Path(tmp)
            local = work / f"source{extension}"
            with store.open(source_key) as stream, local.open("wb") as out:
                for chunk in iter_chunks(stream):
                    out.write(chunk)
            share = (0.0, ANALYSIS_SHARE if encode else 1.0)
            analysis = process.analyse(local, duration, beat, share, channels=settings.channels if encode else None)
            made = None
            if tags is not None:  # tags are made exactly when the job encodes
                made = process.encode(local, duration, analysis, settings, work, beat, (ANALYSIS_SHARE, 1.0))
                id3.write(made.mp3, tags)
            waveform = work / "waveform.json"
            waveform.write_bytes(process.waveform_json(analysis))
            beat(1.0, force=True)
            _finish(job_id, token, source_id, analysis, waveform, made, beat)
    except LeaseLost:
        log.warning("audio job %s: taken over by another worker; this run keeps nothing", job_id)
    except MediaError as e:
        _fail(job_id, token, str(e))
    except BaseException as e:
        # Still ours: a store or database that was down; the queue retries it. No longer ours: the audio was
        # replaced or the episode deleted meanwhile (its file gone with it), and there is nothing to retry.
        if _release(job_id, token) or not isinstance(e, Exception):
            raise
        log.warning(
            "audio job %s: the episode's audio changed while it ran (%s); this run keeps nothing",
            job_id,
            type(e).__name__,
        )


def _tags(episode: Episode, duration: float) -> id3.Tags:
    show = episode.show
    cover = episode.image or show.image
    return id3.Tags(
        title=episode.title,
        show=show.title,
        author=show.author,
        year=(episode.published_at or utcnow()).year,
        duration=duration,
        chapters=[id3.TagChapter(c.start, c.end, c.title, c.url) for c in episode.chapters],
        cover=storage_of(cover).read_bytes(cover.key) if cover is not None else None,
        cover_mime=cover.mime_type if cover is not None else "image/jpeg",
    )


def _ours(job_id: int, token: str, source_id: int) -> AudioJob | None:
    job = db.session.scalar(
        select(AudioJob).where(AudioJob.id == job_id, AudioJob.lease_token == token, AudioJob.state == "running")
    )
    return job if job is not None and job.source_id == source_id else None


def _finish(
    job_id: int,
    token: str,
    source_id: int,
    analysis: process.Analysis,
    waveform: Path,
    made: process.Renditions | None,
    beat: _Heartbeat,
) -> None:
    with media_change() as change:
        slug = db.session.scalar(select(Episode.slug).join(AudioJob).where(AudioJob.id == job_id)) or "episode"
        db.session.commit()
        staged: list[tuple[str, str, str, audio_probe.AudioInfo | None, Staged]] = [
            (
                "waveform",
                ".json",
                "application/json",
                None,
                change.upload(
                    waveform,
                    kind="waveforms",
                    extension=".json",
                    mime_type="application/json",
                    download_name=f"{slug}-waveform.json",
                ),
            )
        ]
        beat(1.0, force=True)  # each upload renews the lease: a slow store must not look like a dead worker
        if made is not None:
            for name, path in (("mp3", made.mp3), ("opus", made.opus)):
                info = audio_probe.probe(path)
                staged.append(
                    (
                        name,
                        info.extension,
                        info.mime_type,
                        info,
                        change.upload(
                            path,
                            kind="audio",
                            extension=info.extension,
                            mime_type=info.mime_type,
                            download_name=f"{slug}{info.extension}",
                        ),
                    )
                )
                beat(1.0, force=True)
        job = _ours(job_id, token, source_id)
        if job is None:
            raise LeaseLost(job_id)  # media_change deletes what was stored
        episode = job.episode
        change.lock_show(episode.show)
        rows = {
            name: change.row(upload, extension=extension, mime_type=mime_type, audio=info)
            for name, extension, mime_type, info, upload in staged
        }
        job.source.loudness, job.source.true_peak = analysis.loudness, analysis.true_peak
        change.retire(episode.waveform)
        episode.waveform = rows["waveform"]
        if made is not None:
            if episode.audio is not episode.master:
                change.retire(episode.audio)
            episode.audio = rows["mp3"]
            for alternate in [a for a in episode.alternates if a.generated]:
                episode.alternates.remove(alternate)
                change.retire(alternate.media)
            position = max((a.position for a in episode.alternates), default=-1) + 1
            episode.alternates.append(
                AlternateFile(media=rows["opus"], title="OPUS", position=position, generated=True)
            )
            episode.apple_playable = True
            episode.audio_ready = True
            job.gain = made.gain_db
            episode.show.updated_at = utcnow()
        job.state, job.progress, job.finished_at, job.lease_token = "done", 1.0, utcnow(), None
    log.info("audio job %s done: %s", job_id, urls.audio_url(episode) if made is not None else "measured")


def _fail(job_id: int, token: str, reason: str) -> None:
    db.session.rollback()
    if LEASES.release(token, state="failed", error=reason[:2000], finished_at=utcnow()):
        log.warning("audio job %s failed: %s", job_id, reason)


def _release(job_id: int, token: str) -> bool:
    """Give the job back to the queue at once rather than when the lease runs out; whether it was still ours
    (True also when the database cannot tell: better a retry that finds nothing to do than a lost job)."""
    try:
        db.session.rollback()
        return LEASES.release(token, state="queued")
    except Exception:  # the database itself is down: the lease runs out and the sweep requeues it
        log.exception("audio job %s: could not give the job back; the sweep will", job_id)
        db.session.rollback()
        return True


def stalled(now=None) -> list[int]:  # noqa: ANN001
    """Jobs whose worker stopped reporting (its lease ran out), and queued jobs whose message was lost."""
    now = now or utcnow()
    lost = select(AudioJob.id).where(
        AudioJob.state == "queued", AudioJob.created_at < now - timedelta(seconds=_lease_seconds())
    )
    return LEASES.expired(AudioJob.state == "running", now) + list(db.session.scalars(lost))


@jobs.sweeper
def _requeue_stalled(queue: jobs.Jobs) -> None:
    for job_id in stalled():
        log.warning("audio job %s stalled (its worker stopped or its message was lost): queued again", job_id)
        queue.enqueue("process_audio", job_id, what=f"audio job {job_id}")


def audio_state(
    episode: Episode | ListedEpisode, job: AudioJob | None, master: MediaFile | None, files: urls.FeedUrls | None = None
) -> dict:
    """What a producer follows of the episode's audio (the API's `audio`, the admin's status line).

    `state` is "processing" while renditions are made (the episode reaches
    listeners after), "failed" with the reason, or "ready"; the loudness
    figures are the upload's as measured, with the gain normalisation applied. `job` and `master` are the
    episode's (lists.py reads them for a page at once); `files`: the show's URL patterns, when a
    list writes many episodes.
    """
    source = job.source if job is not None else episode.audio
    if job is None or job.state == "done" or (episode.audio_ready and job.state != "failed"):
        state = "ready"
    else:
        state = "failed" if job.state == "failed" else "processing"
    return {
        "state": state,
        "job": None
        if job is None
        else {
            "state": job.state,
            "progress": round(job.progress * 100),
            "attempts": job.attempts,
            "error": job.error,
            "encode": job.encode,
        },
        "loudness_lufs": source.loudness,
        "true_peak_dbtp": source.true_peak,
        "gain_db": None if job is None else job.gain,
        "master": None
        if master is None
        else {
            "mime_type": master.mime_type,
            "size": master.size,
            "duration": master.duration,
            "filename": master.original_filename,
        },
        "waveform_url": (files.media if files else urls.file_url)(episode.waveform, episode.slug),
    }
