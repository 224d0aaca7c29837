"""Leases on the rows that are the truth of background work: audio jobs, feed imports, announcements.

A worker claims rows with one conditional UPDATE (they match and no live
lease holds them) and gets a token; it renews the lease while it works and
writes its results only under that token, so a late or duplicate worker
changes nothing. A worker that dies stops renewing: once its lease runs out
the rows can be claimed again (`expired` finds them for the sweep). No
transaction stays open between these calls. The model needs `lease_token`
and `lease_until` columns.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update

from ..models import utcnow
from .extensions import db, rows_changed


class LeaseLost(Exception):
    """The rows a worker held were taken by another (its lease ran out): it stops without writing."""


@dataclass(frozen=True)
class Leases:
    """The leases of one table, each `seconds()` long."""

    model: Any
    seconds: Callable[[], float]

    def free(self, now: datetime) -> ColumnElement[bool]:
        """Rows no live lease holds."""
        return or_(self.model.lease_until.is_(None), self.model.lease_until < now)

    def claim(self, where: ColumnElement[bool], **values: Any) -> str | None:
        """Lease the free rows matching `where`, setting `values`; the token, or None if none was free."""
        now, token = utcnow(), secrets.token_hex(16)
        taken = rows_changed(
            update(self.model)
            .where(where, self.free(now))
            .values(lease_token=token, lease_until=now + timedelta(seconds=self.seconds()), **values)
        )
        db.session.commit()
        return token if taken else None

    def renew(self, token: str, **values: Any) -> bool:
        """Extend the lease (and set `values`); False once the rows are no longer this token's."""
        kept = rows_changed(
            update(self.model)
            .where(self.model.lease_token == token)
            .values(lease_until=utcnow() + timedelta(seconds=self.seconds()), **values)
        )
        db.session.commit()
        return bool(kept)

    def release(self, token: str, **values: Any) -> bool:
        """Give the rows up, setting `values` (the work's outcome); False if they were no longer ours."""
        released = rows_changed(
            update(self.model)
            .where(self.model.lease_token == token)
            .values(lease_token=None, lease_until=None, **values)
        )
        db.session.commit()
        return bool(released)

    def finish(self, token: str) -> bool:
        """Delete the rows: their work is done and nothing needs them after it."""
        done = rows_changed(delete(self.model).where(self.model.lease_token == token))
        db.session.commit()
        return bool(done)

    def expired(self, where: ColumnElement[bool], now: datetime | None = None) -> list[int]:
        """Ids of the rows matching `where` whose holder stopped renewing (it died): the sweep queues their work
        again."""
        return list(db.session.scalars(select(self.model.id).where(where, self.model.lease_until < (now or utcnow()))))

    def ran_out(self, row: Any, now: datetime | None = None) -> bool:
        """Whether this row's lease was taken and ran out."""
        return row.lease_until is not None and row.lease_until < (now or utcnow())
