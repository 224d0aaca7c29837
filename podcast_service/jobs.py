"""The task queue (Huey) and every job that runs on it.

Work that takes longer than a request may (decoding and encoding audio) runs
in worker processes: `flask --app podcast_service worker`. The queue is an
SQLite file by default, so one machine needs nothing running, or Redis
(`queue_url = "redis://..."`), so web and worker processes on many machines
share it. Huey hands each message to one worker; the jobs' own rows decide
whether work is still to be done (catalogue/audio_jobs.py), so a message delivered
twice, or a worker killed mid-job, never makes a file twice or loses one.

Jobs:
- `process_audio(job_id)`: measure an upload, and make MP3 and Opus from a master;
- `send_announcements()`: ping hubs and directories about changed feeds (feed/announce.py),
  queued after each change and for each scheduled episode's time; it queues itself
  again for the next retry or scheduled ping;
- `sweep()`: every minute (and once soon after a worker starts), requeue audio jobs
  whose worker died or whose message was lost, and send announcements any lost
  message left behind;
- `import_feed(import_id)`: a feed import started from the admin (imports/background.py),
  queued again in 30 s while another import runs;
- `analytics_roll_up()`: every ten minutes, count each finished day's enclosure
  requests into daily downloads and delete them with the day's salt
  (analytics/counting.py), one worker at a time.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import redis
from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab

from .feed import announce
from .catalogue import audio_jobs
from .core import locks as run_locks
from .imports import background
from .analytics import counting
from .core.errors import Conflict
from .core.settings import Settings

log = logging.getLogger(__name__)
# A store or database that was down: tried again after 30 s, 60 s, 120 s.
RETRIES = 3
RETRY_DELAY_SECONDS = 30


def _make_huey(settings: Settings) -> Huey:
    if settings.jobs_immediate:
        return Huey(settings.queue_name, immediate=True, results=False)
    if settings.queue_url.startswith("sqlite:///"):
        path = Path(settings.queue_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(settings.queue_name, filename=str(path),
                          results=False, timeout=settings.database_timeout_seconds)
    pool = redis.ConnectionPool.from_url(settings.queue_url, socket_timeout=settings.storage_timeout_seconds,
                                         socket_connect_timeout=settings.database_timeout_seconds)
    return RedisHuey(settings.queue_name, connection_pool=pool, results=False)


class Jobs:
    """An app's queue and its tasks. Made on first use, so creating the app opens nothing."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    @cached_property
    def huey(self) -> Huey:
        huey = _make_huey(self.app.config["PODCAST"])
        self._process_audio = huey.task(retries=RETRIES, retry_delay=RETRY_DELAY_SECONDS, retry_backoff=2,
                                        name="process_audio")(self._in_app(audio_jobs.run))
        self._announce = huey.task(name="send_announcements")(self._in_app(self._send_announcements))
        self._import_feed = huey.task(name="import_feed")(self._in_app(self._run_import))
        self._sweep = huey.periodic_task(crontab(minute="*"), name="sweep")(self._in_app(self._sweep_all))
        self._roll_up = huey.periodic_task(crontab(minute="*/10"), name="analytics_roll_up")(
            self._in_app(self._analytics_roll_up))
        return huey

    def _in_app(self, fn):  # noqa: ANN001, ANN202
        """Run a task in this app's context (a worker thread has none; immediate mode reuses the caller's)."""
        def task(*args: Any) -> Any:
            with self.app.app_context():
                return fn(*args)
        task.__name__ = fn.__name__
        return task

    def _sweep_all(self) -> None:
        for job_id in audio_jobs.stalled():
            log.warning("audio job %s stalled (its worker stopped or its message was lost): queued again", job_id)
            self.process_audio(job_id)
        for import_id in background.lost():
            log.warning("feed import %s was never taken by a worker (its message was lost): queued again", import_id)
            self.import_feed(import_id)
        self._send_announcements()

    def _run_import(self, import_id: int) -> None:
        wait = background.run(import_id)
        if wait is not None and not self.huey.immediate:
            self._import_feed.schedule((import_id,), delay=wait)

    def _analytics_roll_up(self) -> None:
        try:
            with run_locks.held("analytics-roll-up"):
                counting.roll_up()
        except Conflict:
            log.info("analytics roll-up already running elsewhere")

    def _send_announcements(self) -> None:
        next_due = announce.run_due()
        if next_due is not None and not self.huey.immediate:
            self._announce.schedule(eta=next_due)

    def announce(self, times: set[datetime | None]) -> None:
        """Send queued announcements now (None) and at each scheduled time; never fails the caller."""
        if not announce.targets_configured(self.app.config["PODCAST"]):
            return
        huey = self.huey
        try:
            for at in times:
                if at is None:
                    self._announce()
                elif not huey.immediate:
                    self._announce.schedule(eta=at)
        except Exception:
            if huey.immediate:
                raise
            log.exception("announcements could not be queued; the next sweep sends them")

    def process_audio(self, job_id: int) -> None:
        """Queue an audio job."""
        self._enqueue("_process_audio", job_id, what=f"audio job {job_id}")

    def import_feed(self, import_id: int) -> None:
        """Queue a feed import."""
        self._enqueue("_import_feed", import_id, what=f"feed import {import_id}")

    def _enqueue(self, task: str, *args: Any, what: str) -> None:
        """Never fails the caller: a queue that is down leaves the work to the sweep."""
        huey = self.huey
        try:
            getattr(self, task)(*args)
        except Exception:
            if huey.immediate:
                raise
            log.exception("%s could not be queued; the sweep will queue it", what)

    def sweep_soon(self) -> None:
        """A sweep once a dead worker's leases have run out: a restarted worker picks up its jobs."""
        self.huey  # noqa: B018  (registers the tasks)
        self._sweep.schedule(delay=self.app.config["PODCAST"].job_lease_seconds + 1)


def init_app(app: Flask) -> None:
    app.extensions["podcast_jobs"] = Jobs(app)


def jobs() -> Jobs:
    return current_app.extensions["podcast_jobs"]


def run_worker(app: Flask, workers: int) -> None:
    """Consume the queue until stopped (SIGINT or SIGTERM finish the running jobs' current step first).

    A starting worker sends what is due (a scheduled ping that fell due while
    no worker ran) and sweeps once the leases of a dead worker have run out.
    """
    queue: Jobs = app.extensions["podcast_jobs"]
    queue.announce({None})
    queue.sweep_soon()
    consumer = queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                          check_worker_health=True)
    consumer.run()
