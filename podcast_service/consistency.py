"""Finding where the database and the media store disagree, for `flask storage-check`."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from .extensions import db
from .models import MediaFile
from .storage import Storage
from .storage.s3 import S3Storage


@dataclass
class Report:
    orphaned_objects: list[str] = field(default_factory=list)  # in the store, no row
    missing_objects: list[str] = field(default_factory=list)  # a row, no object
    incomplete_uploads: list[tuple[str, str]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.orphaned_objects or self.missing_objects or self.incomplete_uploads)


def check(store: Storage) -> Report:
    rows = set(db.session.scalars(select(MediaFile.key).where(MediaFile.backend == store.name)))
    objects = set(store.keys())
    return Report(
        orphaned_objects=sorted(objects - rows),
        missing_objects=sorted(rows - objects),
        incomplete_uploads=store.incomplete_uploads() if isinstance(store, S3Storage) else [],
    )


def fix(store: Storage, report: Report) -> None:
    """Delete orphaned objects and abort leftover multipart uploads; rows without objects need a person."""
    for key in report.orphaned_objects:
        store.delete(key)
    if isinstance(store, S3Storage):
        for key, upload_id in report.incomplete_uploads:
            store.abort_upload(key, upload_id)
