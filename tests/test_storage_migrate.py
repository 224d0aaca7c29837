"""`flask storage-migrate --to s3`: a library that started local moves to SeaweedFS, verified and resumable."""

from __future__ import annotations

import pytest
from fixtures.app import DEMO_EPISODES, dispose_app, fetch, migrate
from sqlalchemy import select

from podcast_service import create_app
from podcast_service.core import urls
from podcast_service.core.extensions import db
from podcast_service.media.storage import migrate as storage_migration
from podcast_service.models import Episode, MediaFile


@pytest.fixture
def local_app_with_bucket(app_config, tmp_path, seaweedfs, s3_bucket):
    """New files go to the local folder; the S3 bucket is configured as the destination."""
    app = create_app(
        {
            **app_config,
            "database_url": f"sqlite:///{tmp_path / 'migrate.db'}",
            "storage_backend": "local",
            "storage_path": str(tmp_path / "local-media"),
            "s3_bucket": s3_bucket,
            "s3_endpoint_url": seaweedfs.endpoint,
            "s3_region": "us-east-1",
        }
    )
    with app.app_context():
        migrate(app)
        assert app.test_cli_runner().invoke(args=["import-episodes", str(DEMO_EPISODES)]).exit_code == 0
        yield app
        db.session.remove()
        dispose_app(app)


def stores(app):
    stores = app.extensions["podcast_stores"]
    return stores["local"], stores["s3"]


def test_everything_moves_and_keeps_serving(local_app_with_bucket):
    app = local_app_with_bucket
    local, s3 = stores(app)
    rows = db.session.scalars(select(MediaFile)).all()
    keys = {r.key: r.sha256 for r in rows}
    assert len(keys) == 4 and set(local.keys()) == set(keys)  # show art, audio, transcript, waveform
    episode = db.session.scalar(select(Episode))
    audio_path = urls.audio_url(episode).removeprefix(app.config["PODCAST"].base_url)
    before = fetch(app.test_client(), audio_path)

    runner = app.test_cli_runner()
    result = runner.invoke(args=["storage-migrate", "--to", "s3"])
    assert result.exit_code == 0, result.output
    assert "4 files to move to s3" in result.output and "all media is on s3" in result.output

    db.session.expire_all()
    assert {r.backend for r in db.session.scalars(select(MediaFile))} == {"s3"}
    assert set(s3.keys()) == set(keys)
    assert list(local.keys()) == []
    after = fetch(app.test_client(), audio_path)  # the same enclosure URL, now a redirect to the store
    assert after.redirected and not before.redirected
    assert after.data == before.data
    head = s3.client.head_object(Bucket=s3.bucket, Key=episode.audio.key)
    assert head["ContentDisposition"] == 'inline; filename="shaping-belgiums-digital-future.mp3"'
    assert runner.invoke(args=["storage-check"]).exit_code == 0


def test_an_interrupted_migration_resumes(local_app_with_bucket):
    app = local_app_with_bucket
    local, s3 = stores(app)
    moved = storage_migration.migrate(app.extensions["podcast_stores"], "s3")
    first = next(moved)  # the process stops after one file
    moved.close()
    assert first.backend == "s3" and len(list(local.keys())) == 3

    # A copy written but never committed (a crash mid-file) is simply written again.
    leftover = db.session.scalars(select(MediaFile).where(MediaFile.backend == "local")).first()
    with local.open(leftover.key) as fh:
        s3.put(leftover.key, fh, content_type=leftover.mime_type)

    result = app.test_cli_runner().invoke(args=["storage-migrate", "--to", "s3"])
    assert result.exit_code == 0, result.output
    assert "3 files to move to s3" in result.output
    db.session.expire_all()
    assert {r.backend for r in db.session.scalars(select(MediaFile))} == {"s3"}
    assert list(local.keys()) == []


def test_a_corrupt_copy_is_refused_and_the_file_stays(local_app_with_bucket):
    app = local_app_with_bucket
    local, s3 = stores(app)
    row = db.session.scalars(select(MediaFile)).first()
    (local.root / row.key).write_bytes(b"bit rot")
    result = app.test_cli_runner().invoke(args=["storage-migrate", "--to", "s3"])
    assert result.exit_code == 1
    assert "does not match the recorded size and checksum" in result.output
    db.session.expire_all()
    assert db.session.get(MediaFile, row.id).backend == "local"
    assert not s3.exists(row.key)


def test_an_episode_deleted_during_the_move_is_skipped_and_leaves_no_copy(local_app_with_bucket):
    from podcast_service.catalogue.service import delete_episode

    app = local_app_with_bucket
    local, s3 = stores(app)
    episode = db.session.scalars(select(Episode)).one()
    episode_keys = {f.key for f in episode.media_files()}
    s3_put = s3.put

    def put_while_a_producer_deletes(key, stream, **kwargs):
        stored = s3_put(key, stream, **kwargs)
        if key in episode_keys and db.session.get(Episode, episode.id) is not None:
            delete_episode(db.session.get(Episode, episode.id))  # committed while this copy was made
        return stored

    s3.put = put_while_a_producer_deletes
    try:
        result = app.test_cli_runner().invoke(args=["storage-migrate", "--to", "s3"])
    finally:
        del s3.put
    assert result.exit_code == 0, result.output
    assert set(s3.keys()).isdisjoint(episode_keys) and list(local.keys()) == []
    assert {r.backend for r in db.session.scalars(select(MediaFile))} == {"s3"}
    assert app.test_cli_runner().invoke(args=["storage-check"]).exit_code == 0
