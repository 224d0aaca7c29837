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

from sqlalchemy import or_, select

from .errors import StorageError
from .extensions import db
from .models import Episode, MediaFile, Show
from .storage import Stores


def download_name(row: MediaFile) -> str:
    """The file name the object was stored with: its episode's or show's slug and extension."""
    slug = db.session.scalar(
        select(Episode.slug).where(
            or_(Episode.audio_id == row.id, Episode.image_id == row.id, Episode.transcript_id == row.id)
        )
    ) or db.session.scalar(select(Show.slug).where(Show.image_id == row.id))
    return f"{slug or row.public_id}{row.extension}"


def pending(target: str) -> list[int]:
    return list(db.session.scalars(
        select(MediaFile.id).where(MediaFile.backend != target).order_by(MediaFile.id)
    ))


def migrate(stores: Stores, target_name: str, *, keep_source: bool = False) -> Iterator[MediaFile]:
    """Move every file not yet on `target_name` there, yielding each one once it is committed."""
    target = stores[target_name]
    for media_id in pending(target_name):
        row = db.session.get(MediaFile, media_id)
        source = stores[row.backend]
        with source.open(row.key) as fh:
            copy = target.put(row.key, fh, content_type=row.mime_type, download_name=download_name(row))
        if (copy.size, copy.sha256) != (row.size, row.sha256):
            target.delete(row.key)
            raise StorageError(
                f"{row.key}: the copy on {target_name} does not match the recorded size and checksum; "
                f"the file stays on {source.name}"
            )
        row.backend = target_name
        db.session.commit()
        if not keep_source:
            source.delete(row.key)
        yield row
