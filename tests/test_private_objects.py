"""A public bucket (`s3_public_base_url`) holds nothing the public may not see where anonymous reads reach it.

SeaweedFS runs with the access rules a public bucket has (tests/fixtures/services.py: anonymous readers may
read PUBLIC_BUCKET but its private/ prefix); each check is an anonymous GET, as anyone holding a URL makes it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fixtures.app import AUDIO, fetch, migrate
from fixtures.services import PUBLIC_BUCKET
from sqlalchemy import update

from podcast_service import create_app
from podcast_service.accounts import subscribers
from podcast_service.catalogue import coercion as fields
from podcast_service.catalogue.inputs import EpisodeInput
from podcast_service.catalogue.service import episode_input, save_episode, save_show
from podcast_service.core import urls
from podcast_service.core.extensions import db
from podcast_service.delivery.private_objects import place_objects
from podcast_service.models import Episode, MediaFile, utcnow


@pytest.fixture
def public_bucket(seaweedfs):
    client = seaweedfs.client()
    if PUBLIC_BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=PUBLIC_BUCKET)
    yield f"{seaweedfs.endpoint}/{PUBLIC_BUCKET}"
    seaweedfs.drop_bucket(PUBLIC_BUCKET)


@pytest.fixture
def app(tmp_path, seaweedfs, public_bucket):
    """The service on the public bucket (the suite's `show` fixture makes its show here)."""
    app = create_app(
        {
            "database_url": f"sqlite:///{tmp_path / 'public.db'}",
            "base_url": "https://pod.example.org",
            "secret_key": "tests-only-4f1d9a7c2b8e6035d1a9f7c3e5b2a8d0",
            "storage_backend": "s3",
            "s3_bucket": PUBLIC_BUCKET,
            "s3_endpoint_url": seaweedfs.endpoint,
            "s3_region": "us-east-1",
            "s3_public_base_url": public_bucket,
            "jobs_immediate": True,
        }
    )
    with app.app_context():
        migrate(app)
        yield app
        db.session.remove()
        db.engine.dispose()


def anonymous(url: str) -> int:
    """The status an anonymous GET of `url` gets, straight from the bucket."""
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def public_url(public_bucket: str, key: str) -> str:
    return f"{public_bucket}/{key.removeprefix('private/')}"


def redirect(app, path: str) -> str:
    response = app.test_client().get(path)
    assert response.status_code == 302, response.status_code
    return response.location


def test_what_is_not_published_is_never_where_anonymous_reads_reach(app, show, public_bucket):
    published = save_episode(show, EpisodeInput(title="Live", published_at=utcnow()), AUDIO / "cbr.mp3")
    draft = save_episode(show, EpisodeInput(title="Draft"), AUDIO / "cbr.mp3")
    db.session.refresh(published.audio), db.session.refresh(draft.audio)
    # The published file is out: its URL is the bucket's public one, and anonymous readers get it.
    location = redirect(app, urlsplit(urls.audio_url(published)).path)
    assert location == f"{public_bucket}/{published.audio.key}" and anonymous(location) == 200
    # The draft's file is under private/: its key and the public name it would have are both refused.
    assert draft.audio.key.startswith("private/audio/")
    assert anonymous(f"{public_bucket}/{draft.audio.key}") == 403
    assert anonymous(public_url(public_bucket, draft.audio.key)) in (403, 404)
    # The producer's preview gets a presigned URL; the same URL without its signature is refused.
    signed = redirect(app, urlsplit(urls.audio_url(draft)).path + f"?preview={draft.preview_key}")
    assert "Signature=" in signed and anonymous(signed) == 200
    assert anonymous(signed.split("?", 1)[0]) == 403
    # Out are the published episode's audio and waveform, nothing else.
    out = {row.id for row in db.session.query(MediaFile) if not row.key.startswith("private/")}
    assert out == {published.audio_id, published.waveform_id}

    # Withdrawn: the file goes back under private/, and its public URL stops working.
    old = f"{public_bucket}/{published.audio.key}"
    save_episode(show, replace(episode_input(published), withdrawn=True), existing=published)
    db.session.refresh(published.audio)
    assert published.audio.key.startswith("private/") and anonymous(old) in (403, 404)
    assert anonymous(f"{public_bucket}/{published.audio.key}") == 403
    # Published: out it comes; the enclosure URL on the service never changed.
    save_episode(show, replace(episode_input(draft), published_at=utcnow()), existing=draft)
    db.session.refresh(draft.audio)
    assert not draft.audio.key.startswith("private/")
    assert anonymous(redirect(app, urlsplit(urls.audio_url(draft)).path)) == 200


def test_a_private_shows_files_stay_private_and_a_revoked_subscriber_keeps_nothing(app, show, public_bucket):
    episode = save_episode(show, EpisodeInput(title="Members", published_at=utcnow()), AUDIO / "cbr.mp3")
    db.session.refresh(episode.audio)
    was_public = f"{public_bucket}/{episode.audio.key}"
    assert anonymous(was_public) == 200
    save_show(replace(fields.show_input(show), private=True))
    db.session.refresh(episode.audio)
    assert anonymous(was_public) in (403, 404)
    subscriber, token = subscribers.create_subscriber(show, "Alice")
    path = f"/subscriptions/{token}/media/{episode.audio.public_id}/e.mp3"
    signed = redirect(app, path)
    assert anonymous(signed) == 200 and anonymous(signed.split("?", 1)[0]) == 403
    subscribers.revoke_subscriber(subscriber)
    assert app.test_client().get(path).status_code == 403
    assert anonymous(f"{public_bucket}/{episode.audio.key}") == 403


def test_a_scheduled_episodes_file_comes_out_when_it_goes_live(app, show, public_bucket):
    at = utcnow() + timedelta(hours=1)
    episode = save_episode(show, EpisodeInput(title="Later", published_at=at), AUDIO / "cbr.mp3")
    db.session.refresh(episode.audio)
    assert episode.audio.key.startswith("private/")
    # The hour passes with nobody changing anything (the row's time moved back behind the service's back:
    # the store's clock, which signs every request, must not be moved).
    with db.engine.begin() as connection:
        connection.execute(update(Episode.__table__).values(published_at=utcnow() - timedelta(seconds=1)))
    db.session.expire_all()
    # Live before the worker's next sweep: the route sends a presigned URL, never a public one.
    signed = redirect(app, urlsplit(urls.audio_url(episode)).path)
    assert "Signature=" in signed and anonymous(signed) == 200
    assert place_objects() == 2  # what the sweep does every minute: the audio and its waveform
    db.session.refresh(episode.audio)
    assert anonymous(f"{public_bucket}/{episode.audio.key}") == 200
    data = (AUDIO / "cbr.mp3").read_bytes()
    assert fetch(app.test_client(), urlsplit(urls.audio_url(episode)).path).data == data
