"""Moving media between backends, for `flask storage-migrate --to NAME`.

One file at a time: copy under the same key, check the copy's size and
checksum against the row, switch the row's backend and commit, then delete
the source. Interrupted at any point, a re-run carries on: committed files are
skipped, and a copy that was written but not committed is simply written
again. Pages keep working throughout, since each file is served from the
backend its row names.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import or_, select, update

from ...core.errors import StorageError
from ...core.extensions import db, rows_changed
from ...models import Episode, MediaFile, Show
from . import Stores


def download_name(row: MediaFile) -> str:
    """The file name the object was stored with: its episode's or show's slug and extension."""
    slug = db.session.scalar(
        select(Episode.slug).where(
            or_(Episode.audio_id == row.id, Episode.image_id == row.id, Episode.transcript_id == row.id)
        )
    ) or db.session.scalar(select(Show.slug).where(Show.image_id == row.id))
    return f"{slug or row.public_id}{row.extension}"


def pending(target: str) -> list[int]:
    return list(db.session.scalars(select(MediaFile.id).where(MediaFile.backend != target).order_by(MediaFile.id)))


def migrate(stores: Stores, target_name: str, *, keep_source: bool = False) -> Iterator[MediaFile]:
    """Move every file not yet on `target_name` there, yielding each one once it is committed.

    Producers keep working meanwhile: a file whose row is deleted before or
    during its copy is skipped, and a copy made for it is removed again.
    """
    target = stores[target_name]
    for media_id in pending(target_name):
        row = db.session.get(MediaFile, media_id)
        if row is None:
            continue  # deleted since the list was made
        source, key = stores[row.backend], row.key
        try:
            with source.open(key) as fh:
                copy = target.put(key, fh, content_type=row.mime_type, download_name=download_name(row))
        except StorageError:
            db.session.rollback()
            if db.session.get(MediaFile, media_id) is None:
                target.delete(key)  # the episode went while its file was read
                continue
            raise
        if (copy.size, copy.sha256) != (row.size, row.sha256):
            target.delete(key)
            raise StorageError(
                f"{key}: the copy on {target_name} does not match the recorded size and checksum; "
                f"the file stays on {source.name}"
            )
        switched = rows_changed(
            update(MediaFile)
            .where(MediaFile.id == media_id, MediaFile.backend == source.name)
            .values(backend=target_name)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if not switched:
            target.delete(key)  # deleted during the copy: the copy would be an orphan
            continue
        db.session.refresh(row)
        if not keep_source:
            source.delete(key)
        yield row
