"""The task queue (Huey): its wiring only. Capabilities register their own tasks here.

A capability declares a task with `@task("name")` (or `@periodic("name", crontab)`)
and work to redo every minute with `@sweeper`; `jobs().enqueue("name", ...)` queues
it and never fails the caller. The queue is an SQLite file by default, or Redis
(`queue_url = "redis://..."`) for web and worker processes on many machines.
Huey hands each message to one worker; each job's own row decides whether work
is still to be done, so a message delivered twice, or a worker killed mid-job,
never does the work twice or loses it. The tasks: docs/architecture.md (jobs).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import redis
from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.registry import Message
from huey.serializer import Serializer

from .core.private_files import private_file
from .core.settings import Settings, current_settings

log = logging.getLogger(__name__)
# A store or database that was down: tried again after 30 s, 60 s, 120 s.
RETRIES = 3
RETRY_DELAY_SECONDS = 30


@dataclass(frozen=True)
class TaskSpec:
    fn: Callable[..., Any]
    retries: int = 0
    schedule: Any = None  # a crontab for periodic tasks


_TASKS: dict[str, TaskSpec] = {}
_SWEEPERS: list[Callable[[Jobs], None]] = []


def task(name: str, *, retries: int = 0) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `fn` as the queue's task `name` (retried `retries` times when it raises)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _TASKS[name] = TaskSpec(fn, retries)
        return fn

    return register


def periodic(name: str, **when: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register `fn` to run on a worker at every time `when` names (crontab fields: minute="*/10")."""

    def register(fn: Callable[[], Any]) -> Callable[[], Any]:
        _TASKS[name] = TaskSpec(fn, schedule=crontab(**when))
        return fn

    return register


def sweeper(fn: Callable[[Jobs], None]) -> Callable[[Jobs], None]:
    """Register `fn(queue)` to run in every sweep: every minute, and soon after a worker starts."""
    _SWEEPERS.append(fn)
    return fn


class JsonSerializer(Serializer):
    """Queue messages as JSON, which decodes to data only: Huey's default, pickle, runs whatever code a message
    names, so anyone able to write to Redis (or the queue file) could run code in every worker. A message here
    can only name a registered task and its arguments (ids), which the task checks like any input."""

    def _serialize(self, data: Any) -> bytes:
        return json.dumps(_tagged(data), separators=(",", ":")).encode()

    def _deserialize(self, data: bytes) -> Any:
        return _untagged(json.loads(data))


def _tagged(value: Any) -> Any:
    """Huey's messages (named tuples, datetimes, dicts) as JSON with a tag for each kind that is not a list."""
    if isinstance(value, Message):
        return {"message": [_tagged(v) for v in value]}
    if isinstance(value, (list, tuple)):
        return [_tagged(v) for v in value]
    if isinstance(value, dict):
        return {"dict": {str(k): _tagged(v) for k, v in value.items()}}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a queued message cannot carry a {type(value).__name__}")


def _untagged(value: Any) -> Any:
    if isinstance(value, list):
        return [_untagged(v) for v in value]
    if isinstance(value, dict):
        [(kind, inner)] = value.items()
        if kind == "message":
            return Message(*[_untagged(v) for v in inner])
        if kind == "dict":
            return {k: _untagged(v) for k, v in inner.items()}
        if kind == "datetime":
            return datetime.fromisoformat(inner)
        raise ValueError(f"unknown value in a queued message: {kind}")
    return value


def _make_huey(settings: Settings) -> Huey:
    serializer = JsonSerializer()
    if settings.jobs_immediate:
        return Huey(settings.queue_name, immediate=True, results=False, serializer=serializer)
    if settings.queue_url.startswith("sqlite:///"):
        path = private_file(Path(settings.queue_url.removeprefix("sqlite:///")))
        return SqliteHuey(
            settings.queue_name,
            filename=str(path),
            results=False,
            timeout=settings.database_timeout_seconds,
            serializer=serializer,
        )
    pool = redis.ConnectionPool.from_url(
        settings.queue_url,
        socket_timeout=settings.storage_timeout_seconds,
        socket_connect_timeout=settings.database_timeout_seconds,
    )
    return RedisHuey(settings.queue_name, connection_pool=pool, results=False, serializer=serializer)


class Jobs:
    """An app's queue and its tasks. Made on first use, so creating the app opens nothing."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._tasks: dict[str, Any] = {}

    @cached_property
    def huey(self) -> Huey:
        huey = _make_huey(current_settings(self.app))
        for name, spec in _TASKS.items():
            if spec.schedule is not None:
                self._tasks[name] = huey.periodic_task(spec.schedule, name=name)(self._in_app(spec.fn))
            else:
                self._tasks[name] = huey.task(
                    retries=spec.retries, retry_delay=RETRY_DELAY_SECONDS, retry_backoff=2, name=name
                )(self._in_app(spec.fn))
        self._tasks["sweep"] = huey.periodic_task(crontab(minute="*"), name="sweep")(self._in_app(self.sweep))
        return huey

    def _in_app(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Run a task in this app's context (a worker thread has none; immediate mode reuses the caller's)."""

        def run(*args: Any) -> Any:
            with self.app.app_context():
                return fn(*args)

        run.__name__ = fn.__name__
        return run

    def sweep(self) -> None:
        """Queue again what a dead worker or a lost message left behind (each capability's sweeper)."""
        for fn in _SWEEPERS:
            fn(self)

    def enqueue(self, name: str, *args: Any, what: str) -> None:
        """Queue task `name` now. Never fails the caller: a queue that is down leaves the work to the sweep."""
        huey = self.huey
        try:
            self._tasks[name](*args)
        except Exception:
            if huey.immediate:
                raise
            log.exception("%s could not be queued; the sweep will queue it", what)

    def later(self, name: str, *args: Any, delay: float | None = None, eta: datetime | None = None) -> None:
        """Queue task `name` to run after `delay` seconds or at `eta`; nothing in immediate mode (tests, the demo
        without a worker), where it would run at once."""
        huey = self.huey
        if huey.immediate:
            return
        try:
            self._tasks[name].schedule(args, delay=delay, eta=eta)
        except Exception:
            log.exception("%s could not be scheduled; the sweep will queue it", name)

    def sweep_soon(self) -> None:
        """A sweep once a dead worker's leases have run out: a restarted worker picks up its jobs."""
        self.later("sweep", delay=current_settings(self.app).job_lease_seconds + 1)


def init_app(app: Flask) -> None:
    app.extensions["podcast_jobs"] = Jobs(app)


def jobs() -> Jobs:
    """The current app's queue."""
    return current_app.extensions["podcast_jobs"]


def run_worker(app: Flask, workers: int) -> None:
    """Consume the queue until stopped (SIGINT or SIGTERM finish the running jobs' current step first).

    A starting worker queues a sweep at once (a scheduled ping that fell due
    while no worker ran is sent) and another once a dead worker's leases have run out.
    """
    queue: Jobs = app.extensions["podcast_jobs"]
    queue.enqueue("sweep", what="the first sweep")
    queue.sweep_soon()
    consumer = queue.huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, check_worker_health=True
    )
    consumer.run()
