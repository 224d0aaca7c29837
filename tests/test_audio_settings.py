"""What producers control of the audio job, and what goes wrong around it: show settings, processing
again, the admin's progress and failure, a queue that is down, bad settings."""

from __future__ import annotations

import io

import pytest
from fixtures.api import upload
from fixtures.app import AUDIO, BASE_URL, fetch, migrate
from fixtures.masters import damaged_flac, loudness, write_master
from mutagen.mp3 import MP3

from podcast_service.core.errors import SettingsError
from podcast_service.core.extensions import db
from podcast_service.core.settings import load_settings
from podcast_service.models import AudioJob, MediaFile


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"audio_bitrate": 65}, "audio bitrate must be one of 32, 48, 64, 96, 128, 160, 192"),
        ({"audio_bitrate": "fast"}, "audio bitrate must be a whole number"),
        ({"audio_channels": 6}, "audio channels must be 1 (mono) or 2 (stereo)"),
        ({"normalize_masters": "perhaps"}, "normalize_masters must be true or false"),
    ],
)
def test_bad_audio_settings_are_refused_with_a_message(api, api_show, fields, message):
    r = api("PATCH", f"/shows/{api_show}", json=fields)
    assert r.status_code in (400, 422) and message in r.get_json()["error"]["message"]


def test_stereo_128_settings_make_a_stereo_mp3_at_the_stereo_target_and_process_again_remakes_it(
    api, api_show, client, storage, tmp_path
):
    master = write_master(tmp_path / "music.flac", 8.0)
    episode = upload(api, api_show, master, status="published").get_json()
    first_key = db.session.get(
        MediaFile,
        db.session.scalar(db.select(MediaFile.id).where(MediaFile.public_id == episode["audio_url"].split("/")[-2])),
    ).key
    assert MP3(io.BytesIO(fetch(client, episode["audio_url"].removeprefix(BASE_URL)).data)).info.channels == 1

    r = api("PATCH", f"/shows/{api_show}", json={"audio_bitrate": 128, "audio_channels": 2})
    assert r.status_code == 200 and (r.get_json()["audio_bitrate"], r.get_json()["audio_channels"]) == (128, 2)
    again = api("POST", f"/shows/{api_show}/episodes/{episode['id']}/audio/process")
    assert again.status_code == 202
    after = again.get_json()
    assert after["audio"]["state"] == "ready" and after["audio"]["job"]["attempts"] == 1
    data = fetch(client, after["audio_url"].removeprefix(BASE_URL)).data
    info = MP3(io.BytesIO(data)).info
    assert info.channels == 2 and 120_000 <= info.bitrate <= 136_000
    assert loudness(data) == pytest.approx(-16.0, abs=0.5)
    # The earlier MP3 and Opus are gone; the master stays: master, MP3, Opus, waveform.
    keys = set(storage.keys())
    assert first_key not in keys and len(keys) == 4
    assert keys == set(db.session.scalars(db.select(MediaFile.key)))


@pytest.mark.jobs_wait
def test_the_admin_shows_a_job_waiting_and_processing_again_is_refused_meanwhile(
    api, api_show, client, signed_in, tmp_path
):
    episode = upload(api, api_show, write_master(tmp_path / "master.wav", 3.0), status="published").get_json()
    page = client.get(f"/admin/shows/{api_show}/episodes/{episode['id']}/").get_data(as_text=True)
    assert "Making the MP3 and Opus files" in page and "waiting for a worker" in page
    state = client.get(f"/admin/shows/{api_show}/episodes/{episode['id']}/audio-state").get_json()
    assert state["state"] == "processing" and state["job"]["state"] == "queued"
    r = api("POST", f"/shows/{api_show}/episodes/{episode['id']}/audio/process")
    assert r.status_code == 409 and "already being processed" in r.get_json()["error"]["message"]


def test_the_admin_shows_why_a_master_failed_and_can_try_again(api, api_show, client, signed_in, tmp_path):
    episode = upload(api, api_show, damaged_flac(tmp_path / "damaged.flac"), status="published").get_json()
    page = client.get(f"/admin/shows/{api_show}/episodes/{episode['id']}/").get_data(as_text=True)
    assert "The audio could not be processed: the audio is damaged" in page and "Try again" in page
    r = client.post(
        f"/admin/shows/{api_show}/episodes/{episode['id']}/audio/process",
        data={"csrf_token": _csrf(client, f"/admin/shows/{api_show}/episodes/{episode['id']}/")},
    )
    assert r.status_code == 302
    job = db.session.scalar(db.select(AudioJob))
    assert job.state == "failed" and job.attempts == 1  # the file is still damaged: failed again, cleanly


def _csrf(client, path: str) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_an_upload_succeeds_while_the_queue_is_down_and_the_job_waits_in_the_database(app_config, tmp_path):
    """Redis (or the queue file) unreachable: the producer's upload is kept; the sweep queues the job later."""
    from podcast_service import create_app
    from podcast_service.catalogue.inputs import EpisodeInput, ShowInput
    from podcast_service.catalogue.service import save_episode, save_show

    app = create_app(
        {**app_config, "jobs_immediate": False, "queue_url": "redis://127.0.0.1:1/0", "database_timeout_seconds": 2}
    )
    with app.app_context():
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
        episode = save_episode(show, EpisodeInput(title="Kept"), write_master(tmp_path / "m.wav", 2.0))
        job = db.session.scalar(db.select(AudioJob).where(AudioJob.episode_id == episode.id))
        assert job.state == "queued" and episode.audio_ready is False
        db.session.remove()
        db.engine.dispose()


def test_queue_settings_are_checked_at_start(tmp_path):
    with pytest.raises(SettingsError, match="queue_url .* must be sqlite:///FILE .* or redis://HOST:PORT/DB"):
        load_settings({"queue_url": "amqp://127.0.0.1/"}, environ={}, cwd=tmp_path)
    with pytest.raises(SettingsError, match="queue_name .* must be a name of letters"):
        load_settings({"queue_name": "a b"}, environ={}, cwd=tmp_path)
    settings = load_settings({"database_url": f"sqlite:///{tmp_path}/db/podcast.db"}, environ={}, cwd=tmp_path)
    assert settings.queue_url == f"sqlite:///{tmp_path}/db/queue.db"  # beside the database


def test_a_worker_refuses_to_start_when_jobs_run_in_requests(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code == 1 and "jobs_immediate is set" in result.output


def test_an_mp3_upload_is_encoded_again_only_when_the_show_asks(api, api_show, client):
    r = api("PATCH", f"/shows/{api_show}", json={"normalize_compressed": True})
    assert r.status_code == 200
    episode = upload(api, api_show, AUDIO / "cbr.mp3", status="published").get_json()
    assert episode["audio"]["job"]["encode"] is True and episode["audio"]["master"]["mime_type"] == "audio/mpeg"
    served = fetch(client, episode["audio_url"].removeprefix(BASE_URL)).data
    assert served != (AUDIO / "cbr.mp3").read_bytes()
    assert [a["mime_type"] for a in episode["alternates"]] == ["audio/opus"]
