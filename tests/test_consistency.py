"""The database and the store never disagree; storage-check finds and fixes what a crash left behind."""

from __future__ import annotations

import io
import os
import time

import pytest
from fixtures.app import wait_for

from podcast_service import create_app
from podcast_service.core.extensions import db
from podcast_service.media.storage import new_key
from podcast_service.media.storage.s3 import S3Storage


def test_clean_store_reports_agreement(runner, demo):
    result = runner.invoke(args=["storage-check"])
    assert result.exit_code == 0, result.output
    assert "and database agree" in result.output


def test_orphans_and_missing_objects_are_listed_and_orphans_fixed(runner, demo, storage):
    orphan = new_key("audio", ".mp3")
    storage.put(orphan, io.BytesIO(b"left by a crash"), content_type="audio/mpeg")
    storage.delete(demo.transcript.key)
    result = runner.invoke(args=["storage-check"])
    assert result.exit_code == 1
    assert f"row without an object: {demo.transcript.key}" in result.output
    assert orphan not in result.output  # stored a moment ago: a save still running may be about to name it
    result = runner.invoke(args=["storage-check", "--grace-minutes", "0"])
    assert f"object without a row: {orphan}" in result.output

    result = runner.invoke(args=["storage-check", "--fix", "--grace-minutes", "0"])
    assert "removed 1 orphaned objects" in result.output
    assert not storage.exists(orphan)
    assert result.exit_code == 1  # the missing transcript still needs a person
    assert storage.exists(demo.audio.key)


def leave_abandoned_upload(storage) -> None:
    """What a process killed mid-upload leaves in each kind of store."""
    key = new_key("audio", ".mp3")
    if isinstance(storage, S3Storage):
        upload = storage.client.create_multipart_upload(Bucket=storage.bucket, Key=key)
        storage.client.upload_part(
            Bucket=storage.bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"half an episode"
        )
    else:
        folder = storage.root / "audio"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".upload-crashed").write_bytes(b"half an episode")


def test_abandoned_uploads_are_found_and_aborted_but_young_ones_left_alone(runner, demo, storage):
    leave_abandoned_upload(storage)
    young = runner.invoke(args=["storage-check"])
    assert young.exit_code == 0, young.output  # could still be running in another worker
    listed = runner.invoke(args=["storage-check", "--grace-minutes", "0"])
    assert listed.exit_code == 1
    assert "abandoned upload: audio/" in listed.output
    fixed = runner.invoke(args=["storage-check", "--fix", "--grace-minutes", "0"])
    assert "aborted 1 abandoned uploads" in fixed.output
    assert fixed.exit_code == 0, fixed.output
    assert storage.pending_uploads() == []


def test_healthz_reports_database_and_storage(client, app, admin_headers, make_token):
    # Any check can overrun the 1.8 s budget on a busy machine (a new app's first connection, its first S3
    # client, a check queued behind the suite's other processes) and answer "unavailable", as it should; a
    # healthy stack answers ok when asked again.
    def healthy(headers: dict | None = None) -> dict:
        return wait_for(
            lambda: (r := client.get("/healthz", headers=headers)).status_code == 200 and r, what="/healthz ok"
        ).get_json()

    assert healthy() == {"status": "ok"}
    # Details for an admin's token only.
    assert healthy(admin_headers) == {"status": "ok", "database": "ok", "storage": "ok", "disk": "ok"}
    assert healthy(make_token()) == {"status": "ok"}


def _healthz_until(app, logged: str, caplog):
    """Ask /healthz until the log names `logged`: on a busy machine a new app's first checks (its first
    database connection, its first S3 client) can take longer than the 1.8 s health budget, which is
    then "no answer", unavailable all the same. Returns the last answer, once the checks' threads have
    given their connections back (so none is left to the garbage collector)."""
    with app.app_context():
        for _ in range(10):
            r = app.test_client().get("/healthz")
            if logged in caplog.text:
                break
            time.sleep(0.5)
        deadline = time.monotonic() + 30
        while db.engine.pool.checkedout() and time.monotonic() < deadline:
            time.sleep(0.05)
        db.session.remove()
        db.engine.dispose()
    return r


@pytest.mark.fresh_schema
def test_healthz_names_a_schema_that_was_never_migrated(app_config, caplog):
    message = "no schema yet: create it with `flask --app podcast_service db upgrade`"
    r = _healthz_until(create_app(app_config), message, caplog)
    assert r.status_code == 503 and r.get_json() == {"status": "unavailable"}
    assert message in caplog.text


@pytest.mark.parametrize(
    ("override", "failing"),
    [
        ({"storage_path": "/nonexistent/deeper/media", "s3_bucket": "no-such-bucket"}, "storage"),
        ({"database_url": "postgresql+psycopg://postgres@127.0.0.1:1/none"}, "database"),
    ],
)
def test_healthz_is_503_when_storage_or_database_is_unreachable(app_config, override, failing, caplog):
    r = _healthz_until(create_app({**app_config, **override}), f"health check: {failing}:", caplog)
    assert r.status_code == 503
    # Anonymous callers learn nothing of buckets, paths or hosts; the log has it.
    assert r.get_json() == {"status": "unavailable"}
    assert f"health check: {failing}:" in caplog.text


def test_what_a_killed_upload_left_is_gone_after_the_hourly_clean_up_with_no_operator(
    runner, demo, storage, app, monkeypatch
):
    """The object a killed worker stored before its row, its unfinished multipart upload and its spool."""
    from podcast_service.core import spools
    from podcast_service.media.storage import check

    orphan = new_key("audio", ".mp3")
    storage.put(orphan, io.BytesIO(b"stored, never named by a row"), content_type="audio/mpeg")
    leave_abandoned_upload(storage)
    folder = app.config["PODCAST"].upload_temp_path
    folder.mkdir(parents=True, exist_ok=True)
    spool = folder / "upload-killed"
    spool.write_bytes(b"half an upload")  # no process holds its lock
    # Reported at once, whatever its age: the lock tells it is abandoned.
    listed = runner.invoke(args=["storage-check"])
    assert f"spools: abandoned {spool.name}" in listed.output

    monkeypatch.setattr(check, "DEFAULT_GRACE", check.DEFAULT_GRACE * 0)  # as an hour later
    check.clean_storage()  # what a worker runs every hour
    assert not storage.exists(orphan) and storage.pending_uploads() == []
    assert storage.exists(demo.audio.key) and storage.exists(demo.transcript.key)
    # The next spool this machine opens sweeps the abandoned ones older than a minute.
    old = time.time() - 120
    os.utime(spool, (old, old))
    monkeypatch.setattr(spools, "_last_sweep", {"at": 0.0})
    spools.open_spool(folder, "upload-").close()
    assert not spool.exists()
    assert runner.invoke(args=["storage-check"]).exit_code == 0
