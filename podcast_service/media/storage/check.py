"""Finding where the database and the media store disagree, for `flask storage-check` and the hourly clean-up.

What a killed process left (an object stored whose row never committed, a
multipart upload never completed) is found once it is older than the grace,
so nothing a running save is still writing counts; `clean_storage` removes it
every hour on a worker, with no operator.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ... import jobs
from ...core.extensions import db
from ...models import MediaFile, utcnow
from . import Storage
from .base import PendingUpload

log = logging.getLogger(__name__)
# An upload or object younger than this may still be running in another process: left alone.
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
    """Rows and objects that do not match; objects without a row and uploads only once older than `grace`."""
    objects = dict(store.objects())
    rows = set(db.session.scalars(select(MediaFile.key).where(MediaFile.backend == store.name)))
    cutoff = utcnow() - grace
    return Report(
        orphaned_objects=sorted(key for key, written in objects.items() if key not in rows and written <= cutoff),
        missing_objects=sorted(rows - set(objects)),
        abandoned_uploads=[u for u in store.pending_uploads() if u.started <= cutoff],
    )


def fix(store: Storage, report: Report) -> None:
    """Delete orphaned objects and abort abandoned uploads; rows without objects need a person."""
    for key in report.orphaned_objects:
        store.delete(key)
    for upload in report.abandoned_uploads:
        store.abort_upload(upload)


@jobs.periodic("clean_storage", minute="23")
def clean_storage() -> None:
    """Every hour: what killed processes left in each store goes (rows without an object are only logged)."""
    for store in current_app.extensions["podcast_stores"]:
        report = check(store, DEFAULT_GRACE)
        fix(store, report)
        if report.orphaned_objects or report.abandoned_uploads:
            log.info(
                "%s: removed %d objects without a row, aborted %d abandoned uploads",
                store.name,
                len(report.orphaned_objects),
                len(report.abandoned_uploads),
            )
        for key in report.missing_objects:
            log.warning("%s: row without an object: %s (run flask storage-check)", store.name, key)
