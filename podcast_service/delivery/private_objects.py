"""With a store anonymous readers reach (S3 with `s3_public_base_url`), only what the public may see lies there.

The files of drafts, scheduled and withdrawn episodes, of private shows, and
masters live under `private/`, which the bucket's own access rules keep from
anonymous readers (docs/media.md); every new file starts there. After each
change that may publish or unpublish something, and every minute on a worker
(a scheduled episode goes live with no change at all), `place_objects` moves
what is misplaced: a server-side copy, the row's key changed, the old object
deleted. Until a file is out, the media route sends a presigned URL for it,
so a published file is never unreachable and a hidden one never public.
Hiding goes before publishing.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .. import jobs
from ..catalogue.service import stores
from ..core import changes
from ..core import locks as run_locks
from ..core.errors import StorageError
from ..core.extensions import db
from ..media.storage import PRIVATE_PREFIX, Storage, private_key, public_key
from ..models import AlternateFile, Episode, MediaFile, Show
from .lookups import public_file_ids

log = logging.getLogger(__name__)
BATCH = 200  # files moved per run; the next run (queued at once) takes the rest
# What an episode or show change must touch to change whether one of its files is public.
_PLACING = {
    Episode: frozenset(
        {"published_at", "withdrawn_at", "audio_ready", "audio_id", "image_id", "transcript_id", "waveform_id"}
    ),
    Show: frozenset({"private", "image_id"}),
}


def place_objects() -> int:
    """Move the misplaced files of every store that separates private ones (a batch at a time); how many."""
    moved = 0
    for store in stores():
        if not store.separates_private:
            continue
        try:
            with run_locks.held(f"place-objects-{store.name}"):
                moved += _place(store)
        except run_locks.Held:
            jobs.jobs().later("place_objects", delay=5)  # the run going on may have missed this change
    return moved


def _place(store: Storage) -> int:
    public = public_file_ids()
    hidden = MediaFile.key.startswith(PRIVATE_PREFIX)
    in_store = MediaFile.backend == store.name
    to_hide = select(MediaFile).where(in_store, ~hidden, MediaFile.id.not_in(public)).limit(BATCH)
    to_show = select(MediaFile).where(in_store, hidden, MediaFile.id.in_(public)).limit(BATCH)
    moved = 0
    for query, where in ((to_hide, private_key), (to_show, public_key)):
        for row in db.session.scalars(query).all():
            moved += _move(store, row, where(row.key))
    if moved >= BATCH:
        jobs.jobs().enqueue("place_objects", what="the next files to move")
    return moved


def _move(store: Storage, row: MediaFile, new_key: str) -> int:
    """Copy, point the row at the copy, delete the original; a failure leaves the row as it was."""
    old_key = row.key
    try:
        store.move(old_key, new_key)
        row.key = new_key
        db.session.commit()
    except (StorageError, SQLAlchemyError) as e:
        db.session.rollback()
        log.warning("could not move %s to %s: %s", old_key, new_key, str(e).splitlines()[0])
        return 0
    try:
        store.delete(old_key)
    except StorageError as e:
        log.warning("%s was copied to %s but is still there (storage-check --fix removes it): %s", old_key, new_key, e)
    return 1


@jobs.task("place_objects", retries=jobs.RETRIES)
def _place_task() -> None:
    place_objects()


@jobs.sweeper
def _sweep(queue: jobs.Jobs) -> None:
    """Every minute: a scheduled episode's files come out once it is live."""
    if any(store.separates_private for store in stores()):
        queue.enqueue("place_objects", what="moving files between the public and private prefixes")


@changes.on_flush
def _publication_changed(flush: changes.Flush) -> None:
    for obj in flush.rows(Episode, Show, AlternateFile):
        watched = _PLACING.get(type(obj))
        if watched is None or obj in flush.new or obj in flush.deleted or changes.changed_attributes(obj) & watched:
            flush.note("object places", True)
            return


@changes.after_commit("object places")
def _queue_placing(_noted: set) -> None:
    if any(store.separates_private for store in stores()):
        jobs.jobs().enqueue("place_objects", what="moving files between the public and private prefixes")
