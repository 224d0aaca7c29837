"""Audio jobs on real worker processes and each stack's real queue (SQLite file, or Redis).

The upload returns once the file is stored and probed; the episode waits for
its renditions, a worker killed mid-job loses it to another, and two workers
share ten uploads with each made exactly once.
"""

from __future__ import annotations

import os
import pickle

import pytest
from fixtures.api import SHOW_FIELDS
from fixtures.app import BASE_URL, multipart, wait_for
from fixtures.masters import write_master
from fixtures.services import Worker, app_environment
from sqlalchemy import func, select

from podcast_service.core.extensions import db
from podcast_service.jobs import jobs
from podcast_service.models import AlternateFile, AudioJob, Episode, MediaFile

pytestmark = pytest.mark.workers

LEASE_SECONDS = 5


@pytest.fixture
def app_config(app_config):
    """Jobs go to the stack's queue for worker processes, not into the request."""
    return {**app_config, "jobs_immediate": False, "job_lease_seconds": LEASE_SECONDS}


@pytest.fixture
def workers(app_config, tmp_path):
    started: list[Worker] = []

    def start(name: str = "worker") -> Worker:
        worker = Worker(app_environment(app_config), tmp_path, name)
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.stop()


@pytest.fixture
def coalition(client, admin_headers):
    assert client.post("/api/v1/shows", json=SHOW_FIELDS, headers=admin_headers).status_code == 201
    return SHOW_FIELDS["slug"]


def upload(client, headers, slug, path, **form) -> dict:
    r = client.post(
        f"/api/v1/shows/{slug}/episodes",
        headers=headers,
        **multipart(audio=(path.read_bytes(), path.name), status="published", **form),
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def job_of(episode_id: int) -> AudioJob:
    db.session.rollback()  # a fresh look at what the workers wrote
    return db.session.scalar(select(AudioJob).where(AudioJob.episode_id == episode_id))


def files_of(episode_id: int) -> dict[str, int]:
    """How many stored files the episode has of each kind: one of each, or something was made twice."""
    db.session.rollback()
    episode = db.session.get(Episode, episode_id)
    generated = db.session.scalar(
        select(func.count())
        .select_from(AlternateFile)
        .where(AlternateFile.episode_id == episode_id, AlternateFile.generated)
    )
    return {
        "audio": episode.audio.extension,
        "master": episode.master.extension if episode.master else None,
        "generated alternates": generated,
        "waveform": episode.waveform is not None,
    }


def test_the_upload_returns_at_once_and_the_episode_reaches_listeners_when_a_worker_has_made_its_mp3(
    app, client, admin_headers, coalition, workers, tmp_path, storage
):
    master = write_master(tmp_path / "interview.wav", 8.0)
    episode = upload(client, admin_headers, coalition, master, title="Shaping Belgium's digital future")
    assert episode["status"] == "published"
    assert episode["audio"]["state"] == "processing" and episode["audio"]["job"]["state"] == "queued"
    page = f"/shows/{coalition}/{episode['slug']}/"
    assert client.get(page).status_code == 404
    assert "digital future" not in client.get(f"/shows/{coalition}/feed.xml").get_data(as_text=True)
    # The producer can listen to the master meanwhile, through the preview link.
    assert client.get(episode["preview_url"].removeprefix(BASE_URL)).status_code == 200

    worker = workers()
    wait_for(lambda: job_of(episode["id"]).state == "done", 60, "the job", [worker])
    after = client.get(f"/api/v1/shows/{coalition}/episodes/{episode['id']}", headers=admin_headers).get_json()
    assert after["audio"]["state"] == "ready" and after["audio"]["job"]["progress"] == 100
    assert after["mime_type"] == "audio/mpeg"
    assert client.get(page).status_code == 200
    feed = client.get(f"/shows/{coalition}/feed.xml").get_data(as_text=True)
    assert "digital future" in feed and 'type="audio/mpeg"' in feed
    assert files_of(episode["id"]) == {"audio": ".mp3", "master": ".wav", "generated alternates": 1, "waveform": True}
    assert len(list(storage.keys())) == 4


def test_a_job_whose_worker_is_killed_mid_way_is_taken_over_and_finishes_once(
    app, client, admin_headers, coalition, workers, tmp_path, storage
):
    master = write_master(tmp_path / "long-interview.flac", 240.0)
    episode = upload(client, admin_headers, coalition, master)
    first = workers("first")
    # Killed while encoding (past the measuring pass), with its lease still running.
    wait_for(
        lambda: (job := job_of(episode["id"])).state == "running" and job.progress > 0.4,
        120,
        "the first worker to be encoding",
        [first],
    )
    first.kill()
    assert job_of(episode["id"]).state == "running"

    second = workers("second")
    job = wait_for(lambda: (j := job_of(episode["id"])).state == "done" and j, 180, "the takeover", [second])
    assert job.attempts == 2 and job.error is None
    assert "stalled" in second.log_path.read_text()
    assert files_of(episode["id"]) == {"audio": ".mp3", "master": ".flac", "generated alternates": 1, "waveform": True}
    # Nothing the killed worker had begun is left in the store.
    rows = set(db.session.scalars(select(MediaFile.key)))
    assert set(storage.keys()) == rows and len(rows) == 4


def test_two_workers_share_ten_uploads_and_make_each_once(
    app, client, admin_headers, coalition, workers, tmp_path, storage
):
    episodes = [
        upload(client, admin_headers, coalition, write_master(tmp_path / f"part-{n}.aiff", 3.0), title=f"Part {n}")
        for n in range(10)
    ]
    logs = [workers("one"), workers("two")]
    ids = [e["id"] for e in episodes]
    wait_for(lambda: all(job_of(i).state == "done" for i in ids), 120, "ten jobs", logs)
    assert [job_of(i).attempts for i in ids] == [1] * 10
    for i in ids:
        assert files_of(i) == {"audio": ".mp3", "master": ".aiff", "generated alternates": 1, "waveform": True}
    assert set(storage.keys()) == set(db.session.scalars(select(MediaFile.key)))
    assert len(list(storage.keys())) == 40
    # Each job finished once across both workers' logs.
    assert sum(w.log_path.read_text().count(" done: ") for w in logs) == 10


def test_an_episode_deleted_while_its_master_is_encoded_leaves_nothing_behind(
    app, client, admin_headers, coalition, workers, tmp_path, storage
):
    # Ten minutes of audio, deleted as soon as its encoding starts (analysis is the first 30 %): a busy machine
    # must not let the encode finish before the deletion lands.
    master = write_master(tmp_path / "withdrawn.flac", 600.0)
    episode = upload(client, admin_headers, coalition, master)
    worker = workers()
    wait_for(
        lambda: (job := job_of(episode["id"])) is not None and job.state == "running" and job.progress > 0.32,
        120,
        "the worker to be encoding",
        [worker],
    )
    r = client.delete(f"/api/v1/shows/{coalition}/episodes/{episode['id']}", headers=admin_headers)
    assert r.status_code == 204
    wait_for(lambda: "keeps nothing" in worker.log_path.read_text(), 60, "the worker to give up", [worker])
    assert list(storage.keys()) == [] and db.session.scalar(select(func.count()).select_from(MediaFile)) == 0


class _Exploit:
    """What a pickle can carry: a call made while the message is decoded."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_messages_written_into_the_queue_by_someone_else_never_run_code(
    app, client, admin_headers, coalition, workers, tmp_path
):
    """Whoever can write to Redis (or the SQLite queue file) writes there what Huey's pickles would run; the
    worker drops it and goes on with the real work."""
    marker = tmp_path / "ran"
    storage = jobs().huey.storage
    storage.enqueue(pickle.dumps(_Exploit(str(marker))))
    storage.enqueue(b'{"message":["x","no_such_task",null,0,0,null,[],{"dict":{}}]}')
    storage.enqueue(b'{"message":"not a list"}')
    master = write_master(tmp_path / "interview.wav", 2.0)
    episode = upload(client, admin_headers, coalition, master)
    worker = workers()
    wait_for(lambda: job_of(episode["id"]).state == "done", 60, "the job", [worker])
    assert not marker.exists()
    assert worker.process.poll() is None  # still consuming
