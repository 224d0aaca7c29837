"""Masters become what every app plays: an MP3 enclosure and an Opus alternate, tagged, at the loudness target.

These run the audio job inside the upload request (immediate mode); test_jobs.py runs it on real workers.
Loudness is measured here with pyloudnorm on samples decoded by PyAV, not by the service's own meter.
"""

from __future__ import annotations

import json

import pytest
from fixtures.api import upload
from fixtures.app import BASE_URL, FIXTURES, ROOT, fetch
from fixtures.masters import damaged_flac, loudness, write_master
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus

from podcast_service.core.extensions import db
from podcast_service.models import AudioJob, Episode, MediaFile

SECONDS = 12.0
COVER = ROOT / "episodes" / "cover.jpg"
CHAPTERS = (
    '[{"start": 0, "title": "Welcome"}, '
    '{"start": 5, "title": "Belgium\'s digital future", "url": "https://example.org/report"}]'
)


def fetch_bytes(client, url: str) -> bytes:
    """As an app fetches it: from the service, or from the object store it redirects to."""
    r = fetch(client, url.removeprefix(BASE_URL))
    assert r.status == 200, url
    return r.data


@pytest.mark.parametrize("fmt", ["wav", "flac", "aiff", "opus"])
def test_a_master_becomes_a_tagged_mp3_and_an_opus_alternate_at_the_target_loudness(
    api, api_show, client, tmp_path, fmt
):
    master = write_master(tmp_path / f"interview.{fmt}", SECONDS)
    r = upload(
        api,
        api_show,
        master,
        title="Shaping Belgium's digital future",
        status="published",
        chapters=CHAPTERS,
        image=(COVER.read_bytes(), "cover.jpg"),
    )
    assert r.status_code == 201, r.get_json()
    episode = r.get_json()
    audio = episode["audio"]
    assert audio["state"] == "ready" and audio["job"]["state"] == "done" and audio["job"]["attempts"] == 1
    assert audio["master"]["mime_type"] != "audio/mpeg" and audio["loudness_lufs"] < -30
    assert episode["mime_type"] == "audio/mpeg"
    assert [a["mime_type"] for a in episode["alternates"]] == ["audio/opus"]

    mp3 = fetch_bytes(client, episode["audio_url"])
    opus = fetch_bytes(client, episode["alternates"][0]["url"])
    (tmp_path / "out.mp3").write_bytes(mp3)
    (tmp_path / "out.opus").write_bytes(opus)
    assert abs(MP3(tmp_path / "out.mp3").info.length - SECONDS) < 0.05 or _gapless_ok(tmp_path / "out.mp3")
    assert abs(OggOpus(tmp_path / "out.opus").info.length - SECONDS) < 0.05
    assert abs(episode["duration"] - SECONDS) < 0.05

    tags = ID3(tmp_path / "out.mp3")
    assert str(tags["TIT2"]) == "Shaping Belgium's digital future"
    assert str(tags["TALB"]) == "Coalition podcast"
    assert tags.getall("APIC")[0].data == COVER.read_bytes()
    toc = tags.getall("CTOC")[0]
    chapters = [tags[f"CHAP:{i}"] for i in toc.child_element_ids]
    assert [(c.start_time, str(c.sub_frames["TIT2"])) for c in chapters] == [
        (0, "Welcome"),
        (5000, "Belgium's digital future"),
    ]
    assert chapters[1].sub_frames.getall("WXXX")[0].url == "https://example.org/report"

    # Mono by default: -19 LUFS.
    assert loudness(mp3) == pytest.approx(-19.0, abs=0.5)
    assert loudness(opus) == pytest.approx(-19.0, abs=0.5)


def _gapless_ok(path) -> bool:
    """mutagen counts FFmpeg's encoder delay and padding (it reads LAME's tag only); the service does not."""
    from podcast_service.media.audio import probe

    return abs(probe.probe(path).duration - SECONDS) < 0.05


def test_the_master_is_kept_private_and_deleting_the_episode_deletes_every_file(
    app, api, api_show, client, storage, tmp_path
):
    master = write_master(tmp_path / "interview.flac", 6.0)
    episode = upload(api, api_show, master, status="published").get_json()
    row = db.session.get(Episode, episode["id"])
    master_row = row.master
    assert master_row is not None and master_row.extension == ".flac"
    from podcast_service.core import urls

    assert client.get(urls.media_url(master_row, "x").removeprefix(BASE_URL), buffered=True).status_code == 404
    # Its waveform is public, in audiowaveform's layout.
    waveform = json.loads(fetch_bytes(client, episode["audio"]["waveform_url"]))
    assert waveform["version"] == 2 and waveform["bits"] == 8 and len(waveform["data"]) == 2 * waveform["length"]
    assert max(waveform["data"]) > 0 > min(waveform["data"])
    [listed] = api("GET", f"/shows/{api_show}/episodes").get_json()  # the list writes it from the show's pattern
    assert listed["audio"]["waveform_url"] == episode["audio"]["waveform_url"]
    keys = {m.key for m in db.session.scalars(db.select(MediaFile))}
    assert len(keys) == 4  # master, mp3, opus, waveform
    assert set(storage.keys()) == keys

    assert api("DELETE", f"/shows/{api_show}/episodes/{episode['id']}").status_code == 204
    assert list(storage.keys()) == []
    assert db.session.scalar(db.select(db.func.count()).select_from(AudioJob)) == 0


def test_an_mp3_upload_is_measured_and_served_as_it_is(api, api_show, client):
    mp3 = FIXTURES / "audio" / "cbr.mp3"
    episode = upload(api, api_show, mp3, status="published").get_json()
    assert episode["audio"]["state"] == "ready"
    assert episode["audio"]["job"]["encode"] is False and episode["audio"]["master"] is None
    assert episode["audio"]["loudness_lufs"] is not None and episode["audio"]["gain_db"] is None
    assert episode["alternates"] == []
    assert fetch_bytes(client, episode["audio_url"]) == mp3.read_bytes()


def test_a_damaged_master_ends_failed_with_its_reason_and_nothing_reaches_listeners(
    api, api_show, client, storage, tmp_path
):
    bad = damaged_flac(tmp_path / "damaged.flac")
    r = upload(api, api_show, bad, title="Damaged", status="published")
    assert r.status_code == 201
    episode = r.get_json()
    assert episode["audio"]["state"] == "failed"
    assert "damaged" in episode["audio"]["job"]["error"]
    assert episode["alternates"] == [] and episode["audio"]["waveform_url"] is None
    # Only the upload itself is stored: no rendition, no waveform.
    assert len(list(storage.keys())) == 1
    feed = client.get(f"/shows/{api_show}/feed.xml").get_data(as_text=True)
    assert "Damaged" not in feed
    assert client.get(f"/shows/{api_show}/{episode['slug']}/").status_code == 404


def test_without_the_ffmpeg_command_line_pyav_makes_the_same_mp3(app, api, api_show, client, tmp_path):
    """A worker machine without Debian's ffmpeg (ffmpeg_path empty or not found) encodes with PyAV's own."""
    from dataclasses import replace

    app.config["PODCAST"] = replace(app.config["PODCAST"], ffmpeg_path="")
    master = write_master(tmp_path / "interview.flac", SECONDS)
    episode = upload(api, api_show, master, title="Made by PyAV", status="published", chapters=CHAPTERS).get_json()
    assert episode["audio"]["state"] == "ready" and episode["mime_type"] == "audio/mpeg"
    mp3 = fetch_bytes(client, episode["audio_url"])
    (tmp_path / "out.mp3").write_bytes(mp3)
    assert _gapless_ok(tmp_path / "out.mp3")
    assert len(ID3(tmp_path / "out.mp3").getall("CHAP")) == 2
    assert loudness(mp3) == pytest.approx(-19.0, abs=0.5)


def test_a_failing_ffmpeg_command_line_leaves_the_job_to_be_tried_again(app, api, api_show, tmp_path, storage):
    """Not the file's fault (a broken install): the job goes back to the queue, nothing is kept."""
    from dataclasses import replace

    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'ffmpeg: broken install' >&2\nexit 1\n")
    fake.chmod(0o755)
    app.config["PODCAST"] = replace(app.config["PODCAST"], ffmpeg_path=str(fake))
    episode = upload(api, api_show, write_master(tmp_path / "m.wav", 3.0), status="published").get_json()
    assert episode["audio"]["state"] == "processing"
    job = db.session.scalar(db.select(AudioJob))
    assert (job.state, job.attempts, job.lease_token) == ("queued", 1, None)  # for the queue's retry, or the sweep
    assert len(list(storage.keys())) == 1  # the upload only
