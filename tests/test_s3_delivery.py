"""With S3, enclosure URLs stay on the service and redirect to the store (CDN URL or presigned)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fixtures.app import AUDIO, fetch, migrate

from podcast_service import create_app
from podcast_service.catalogue.inputs import EpisodeInput, ShowInput
from podcast_service.catalogue.service import save_episode, save_show
from podcast_service.core import urls
from podcast_service.core.extensions import db
from podcast_service.models import utcnow


@pytest.fixture
def s3_app(tmp_path, seaweedfs, s3_bucket):
    def make(**extra):
        app = create_app(
            {
                "database_url": f"sqlite:///{tmp_path / 's3.db'}",
                "base_url": "https://pod.example.org",
                "storage_backend": "s3",
                "s3_bucket": s3_bucket,
                "s3_endpoint_url": seaweedfs.endpoint,
                "s3_region": "us-east-1",
                **extra,
            }
        )
        ctx = app.app_context()
        ctx.push()
        migrate(app)
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
        episode = save_episode(show, EpisodeInput(title="E", published_at=utcnow()), AUDIO / "cbr.mp3")
        apps.append(ctx)
        return app, episode

    apps = []
    yield make
    for ctx in apps:
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


def test_presigned_redirect_serves_get_head_and_ranges(s3_app):
    app, episode = s3_app()
    path = urlsplit(urls.audio_url(episode)).path
    client = app.test_client()
    first = client.get(path)
    assert first.status_code == 302
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in first.location  # SigV4, which every region accepts
    assert first.headers["Cache-Control"] == "max-age=0"
    data = (AUDIO / "cbr.mp3").read_bytes()
    assert fetch(client, path).data == data
    head = fetch(client, path, "HEAD")
    assert head.status == 200 and head.headers["content-length"] == str(len(data))
    part = fetch(client, path, Range="bytes=10-19")
    assert part.status == 206 and part.data == data[10:20]


def test_public_base_url_redirects_to_the_cdn(s3_app):
    from podcast_service.delivery.private_objects import place_objects

    app, episode = s3_app(s3_public_base_url="https://cdn.example.org/media/")
    path = urlsplit(urls.audio_url(episode)).path
    # A new file starts under private/: presigned until a worker has brought it out.
    assert "Signature=" in app.test_client().get(path).location
    assert place_objects() == 1  # the audio (no worker has drawn its waveform)
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.location == f"https://cdn.example.org/media/{episode.audio.key}"
    assert not episode.audio.key.startswith("private/")


def test_private_and_preview_files_never_get_the_permanent_public_url(s3_app):
    """The CDN URL works without credentials for as long as the object exists; what only some may
    fetch goes through a presigned URL that expires within minutes."""
    from dataclasses import replace

    from podcast_service.accounts import subscribers
    from podcast_service.catalogue import coercion as fields

    app, episode = s3_app(s3_public_base_url="https://cdn.example.org/media/")
    client = app.test_client()
    draft = save_episode(episode.show, EpisodeInput(title="Draft"), AUDIO / "cbr.mp3")
    preview = client.get(urlsplit(urls.audio_url(draft)).path + f"?preview={draft.preview_key}")
    assert preview.status_code == 302 and "cdn.example.org" not in preview.location
    assert "Signature=" in preview.location and preview.headers["Cache-Control"] == "max-age=0, no-store"

    save_show(replace(fields.show_input(episode.show), private=True))
    _subscriber, token = subscribers.create_subscriber(episode.show, "Alice")
    path = f"/subscriptions/{token}/media/{episode.audio.public_id}/e.mp3"
    r = client.get(path)
    assert r.status_code == 302 and "cdn.example.org" not in r.location and "Signature=" in r.location
    assert fetch(client, path).data == (AUDIO / "cbr.mp3").read_bytes()
