"""The object store going away in the middle of an upload: a clear error, and nothing left behind."""

from __future__ import annotations

import threading
import time

import pytest
from fixtures.app import AUDIO, migrate
from fixtures.services import SeaweedFS
from sqlalchemy import func, select

from podcast_service import create_app
from podcast_service.catalogue.inputs import EpisodeInput, ShowInput
from podcast_service.catalogue.service import save_episode, save_show
from podcast_service.core.errors import StorageError
from podcast_service.core.extensions import db
from podcast_service.models import Episode, MediaFile, utcnow

pytestmark = pytest.mark.servers


@pytest.fixture
def fault_server(tmp_path_factory):
    """A SeaweedFS of this test's own, since the test stops it."""
    server = SeaweedFS(tmp_path_factory.mktemp("fault-seaweedfs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def long_mp3(tmp_path):
    """A valid 120 MB MP3 (a VBR stream repeated), long enough to be mid-upload when the store stops."""
    frames = (AUDIO / "vbr_noxing.mp3").read_bytes()
    path = tmp_path / "long.mp3"
    with path.open("wb") as fh:
        for _ in range(120 * 1024 * 1024 // len(frames)):
            fh.write(frames)
    return path


def stop_when_upload_begins(server: SeaweedFS, bucket: str) -> threading.Thread:
    def watch():
        client = server.client()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if client.list_multipart_uploads(Bucket=bucket).get("Uploads"):
                server.stop()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_store_stopped_mid_upload(app_config, fault_server, long_mp3):
    bucket = fault_server.new_bucket()
    app = create_app(
        {
            **app_config,
            "storage_backend": "s3",
            "s3_bucket": bucket,
            "s3_endpoint_url": fault_server.endpoint,
            "s3_region": "us-east-1",
        }
    )
    with app.app_context():
        migrate(app)
        store = app.extensions["podcast_stores"].primary
        show = save_show(
            ShowInput(
                slug="s",
                title="S",
                description="d",
                author="a",
                owner_name="o",
                owner_email="o@example.org",
                categories=["Technology"],
            )
        )
        watcher = stop_when_upload_begins(fault_server, bucket)

        with pytest.raises(StorageError) as exc:
            save_episode(show, EpisodeInput(title="Long", published_at=utcnow()), long_mp3)
        watcher.join()
        assert exc.value.http_status == 503
        assert "object storage could not" in str(exc.value)
        assert db.session.scalar(select(func.count()).select_from(Episode)) == 0
        assert db.session.scalar(select(func.count()).select_from(MediaFile)) == 0

        fault_server.start()  # storage is back: the abandoned upload is aborted without anyone acting
        deadline = time.monotonic() + 90
        while store.pending_uploads() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert store.pending_uploads() == []
        assert list(store.keys()) == []
        db.session.remove()
        db.engine.dispose()
