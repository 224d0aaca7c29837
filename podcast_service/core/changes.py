"""What a transaction changed, told to whatever keeps something in step with it: one collector.

The only listeners on the session class. At each flush, every `@on_flush`
subscriber sees the flushed rows (`Flush`) and may write in the same
transaction (the search index, the feed cache's staleness) or `note` a topic
with values; a bulk UPDATE or DELETE run through the session goes to the
`@on_bulk` subscribers. Once the transaction commits, each `@after_commit(topic)`
subscriber gets the values noted under its topic in the whole transaction
(nginx's files dropped, announcements queued); a rollback forgets them. A
capability subscribes on import; none of them knows who else listens.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask_sqlalchemy.session import Session
from sqlalchemy import event, inspect

_PENDING = "podcast_changes"
_FLUSH: list[Callable[[Flush], None]] = []
_BULK: list[Callable[[Any, type], None]] = []
_COMMIT: defaultdict[str, list[Callable[[set[Any]], None]]] = defaultdict(list)


@dataclass(frozen=True)
class Flush:
    """The rows one flush wrote: new, changed (dirty) and deleted, in the session that flushed them."""

    session: Any
    new: tuple[Any, ...]
    dirty: tuple[Any, ...]
    deleted: tuple[Any, ...]

    def rows(self, *types: type) -> Iterator[Any]:
        """Every flushed row of these types, new, changed or deleted."""
        for obj in (*self.new, *self.dirty, *self.deleted):
            if isinstance(obj, types):
                yield obj

    def note(self, topic: str, *values: Any) -> None:
        note(self.session, topic, *values)


def changed_attributes(obj: Any) -> set[str]:
    """The names of a flushed row's attributes whose value changed."""
    return {a.key for a in inspect(obj).attrs if a.history.has_changes()}


def note(session: Any, topic: str, *values: Any) -> None:
    """Record that `topic` changed in this transaction (with `values`, gathered until it commits)."""
    session.info.setdefault(_PENDING, {}).setdefault(topic, set()).update(values)


def noted(session: Any, topic: str) -> set[Any]:
    """What this transaction has noted under `topic` so far."""
    return session.info.get(_PENDING, {}).get(topic, set())


def on_flush(fn: Callable[[Flush], None]) -> Callable[[Flush], None]:
    _FLUSH.append(fn)
    return fn


def on_bulk(fn: Callable[[Any, type], None]) -> Callable[[Any, type], None]:
    """`fn(session, model)` for an UPDATE or DELETE of `model`'s rows run through the session."""
    _BULK.append(fn)
    return fn


def after_commit(topic: str) -> Callable[[Callable[[set[Any]], None]], Callable[[set[Any]], None]]:
    def register(fn: Callable[[set[Any]], None]) -> Callable[[set[Any]], None]:
        _COMMIT[topic].append(fn)
        return fn

    return register


@event.listens_for(Session, "after_flush")
def _after_flush(session: Any, _context: object) -> None:
    flush = Flush(session, tuple(session.new), tuple(session.dirty), tuple(session.deleted))
    for fn in _FLUSH:
        fn(flush)


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: Any) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        for fn in _BULK:
            fn(state.session, state.bind_mapper.class_)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Any) -> None:
    for topic, values in session.info.pop(_PENDING, {}).items():
        for fn in _COMMIT[topic]:
            fn(values)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Any) -> None:
    session.info.pop(_PENDING, None)
