"""One run at a time for the commands that must not overlap (two imports of the same folder would
race for the same episodes), across processes and machines sharing the database."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..models import RunLock, utcnow
from .errors import Conflict
from .extensions import db, rows_changed


class Held(Conflict):
    """The lock is held by a run that is still alive."""


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead(holder: str) -> bool:
    """Whether the holder is a process of this host that no longer runs."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextmanager
def held(name: str) -> Iterator[None]:
    """Hold the lock `name` for the block, or refuse with one line naming the run that holds it."""
    me = _me()
    try:
        db.session.execute(insert(RunLock).values(name=name, holder=me, started_at=utcnow()))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        lock = db.session.execute(select(RunLock.holder, RunLock.started_at).where(RunLock.name == name)).first()
        if lock is None or not _dead(lock.holder):
            holder = "another run" if lock is None else f"process {lock.holder} (since {lock.started_at:%H:%M} UTC)"
            raise Held(f"{name} is already running in {holder}; wait for it to finish") from None
        taken = rows_changed(
            update(RunLock)
            .where(RunLock.name == name, RunLock.holder == lock.holder)
            .values(holder=me, started_at=utcnow())
        )
        db.session.commit()
        if not taken:
            raise Held(f"{name} was just started by another run; wait for it to finish") from None
    try:
        yield
    finally:
        db.session.rollback()
        db.session.execute(delete(RunLock).where(RunLock.name == name, RunLock.holder == me))
        db.session.commit()
