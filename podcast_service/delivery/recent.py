"""The media route's recent work, kept a few seconds (`media_lookup_seconds`) by each process.

Apps fetch an episode in many ranged requests, and many listeners fetch a
new episode at once: the same lookups, and with `accel_redirect` the same
headers-only answer, again and again. Both are kept here: which file a URL
is and which episode it was found through (lookups.py), and the answer
itself (replay.py answers from it without Flask).

Within the process, any commit that touches a show, an episode or a file
forgets everything at once, and drops this window's links nginx sends public
audio from (media_links.py, shared by every process), and the links kept for
outages of files no longer public; another process (a second
gunicorn worker or machine) goes on serving a just-withdrawn file until its
copy expires. Only files found are kept (an unknown id is asked of the
database each time, so made-up ids fill nothing), and at most `LIMIT` of
each.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask

from ..core import changes
from ..core.settings import current_settings
from ..models import AlternateFile, Episode, MediaFile, Show

_DECIDED_BY = (Show, Episode, MediaFile, AlternateFile)


class RecentMedia:
    LIMIT = 10_000
    generation = 0  # bumped by every commit in this process that touches what a decision rests on

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self.decisions: dict[Any, tuple[float, int, Any]] = {}
        self.answers: dict[Any, tuple[float, int, Any]] = {}
        self.lock = threading.Lock()

    def decision(self, public_id: str, show_id: int | None) -> Any:
        return self._get(self.decisions, (public_id, show_id))

    def keep_decision(self, public_id: str, show_id: int | None, found: Any, generation: int) -> None:
        self._keep(self.decisions, (public_id, show_id), found, generation)

    def forget(self, public_id: str) -> bool:
        """Forget the decisions about one file (and every kept answer, which are few); whether any was kept."""
        with self.lock:
            keys = [key for key in self.decisions if key[0] == public_id]
            for key in keys:
                del self.decisions[key]
            if keys:
                self.answers.clear()
        return bool(keys)

    def answer(self, path: str) -> Any:
        return self._get(self.answers, path)

    def keep_answer(self, path: str, answer: Any, generation: int) -> None:
        self._keep(self.answers, path, answer, generation)

    @staticmethod
    def _get(held: dict[Any, tuple[float, int, Any]], key: Any) -> Any:
        entry = held.get(key)
        if entry is None or entry[0] < time.monotonic() or entry[1] != RecentMedia.generation:
            return None
        return entry[2]

    def _keep(self, held: dict[Any, tuple[float, int, Any]], key: Any, value: Any, generation: int) -> None:
        if not self.seconds:
            return
        with self.lock:
            if len(held) >= self.LIMIT:
                held.clear()
            held[key] = (time.monotonic() + self.seconds, generation, value)


def recent_media(app: Flask) -> RecentMedia:
    held = app.extensions.get("podcast_recent_media")
    if held is None:
        held = app.extensions.setdefault(
            "podcast_recent_media", RecentMedia(current_settings(app).media_lookup_seconds)
        )
    return held


@changes.on_flush
def _note_decisive_change(flush: changes.Flush) -> None:
    if any(flush.rows(*_DECIDED_BY)):
        flush.note("media")


@changes.on_bulk
def _note_bulk_change(session: Any, model: type) -> None:
    """An UPDATE or DELETE run through the session (storage-migrate moves files to another store so)."""
    if issubclass(model, _DECIDED_BY):
        changes.note(session, "media")


@changes.after_commit("media")
def _forget(_: set[Any]) -> None:
    RecentMedia.generation += 1
