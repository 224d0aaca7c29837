"""Finding where the database and the media store disagree, for `flask storage-check`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from ...core.extensions import db
from ...models import MediaFile, utcnow
from . import Storage
from .base import PendingUpload

# An upload younger than this may still be running in another process: left alone.
DEFAULT_GRACE = timedelta(hours=1)


@dataclass
class Report:
    orphaned_objects: list[str] = field(default_factory=list)  # in the store, no row
    missing_objects: list[str] = field(default_factory=list)  # a row, no object
    abandoned_uploads: list[PendingUpload] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.orphaned_objects or self.missing_objects or self.abandoned_uploads)


def check(store: Storage, grace: timedelta = DEFAULT_GRACE) -> Report:
    rows = set(db.session.scalars(select(MediaFile.key).where(MediaFile.backend == store.name)))
    objects = set(store.keys())
    cutoff = utcnow() - grace
    return Report(
        orphaned_objects=sorted(objects - rows),
        missing_objects=sorted(rows - objects),
        abandoned_uploads=[u for u in store.pending_uploads() if u.started <= cutoff],
    )


def fix(store: Storage, report: Report) -> None:
    """Delete orphaned objects and abort abandoned uploads; rows without objects need a person."""
    for key in report.orphaned_objects:
        store.delete(key)
    for upload in report.abandoned_uploads:
        store.abort_upload(upload)
