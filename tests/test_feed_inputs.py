"""What producers give for the feed is checked where it comes in: Apple's rules, Podcasting 2.0 values, renditions."""

from __future__ import annotations

import shutil
import uuid

import pytest
from fixtures.app import AUDIO, DEMO_EPISODES, multipart
from sqlalchemy import select

from podcast_service.core.extensions import db
from podcast_service.imports import feed as feed_import
from podcast_service.models import AlternateFile, Episode, MediaFile, Show

PODROLL_GUID = "917393e3-1b1e-5cef-ace4-edaa54e1f810"

SHOW = "/api/v1/shows/test-show"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"description": "é" * 2001}, "4002 bytes long; Apple Podcasts allows 4000"),
        ({"categories": ["Technology", "Cooking"]}, "Cooking"),
        ({"medium": "video"}, "medium must be one of"),
        ({"location_geo": "50.8,4.3"}, "location geo URI"),
        ({"location_osm": "Brussels"}, "OpenStreetMap"),
        ({"update_frequency": "every week"}, "update frequency"),
        ({"update_frequency": "FREQ=WEEKLY"}, "update frequency text is required"),
        ({"podroll": [["not-a-guid", "https://example.org/feed.xml"]]}, "is not a podcast:guid"),
        ({"funding": [["ftp://example.org", "Give"]]}, "funding URL"),
        ({"new_feed_url": "feed.example.org/rss"}, "new feed URL"),
        ({"season_names": {"one": "2021"}}, "season names"),
        ({"private": "maybe"}, "private must be true or false"),
    ],
)
def test_bad_show_settings_are_refused_with_a_message(client, show, admin_headers, change, message):
    r = client.patch(SHOW, json=change, headers=admin_headers)
    assert r.status_code == 422 and message in r.json["error"]["message"], r.json


def test_show_settings_round_trip(client, show, admin_headers):
    settings = {
        "medium": "music",
        "locked": False,
        "block": True,
        "complete": True,
        "funding": [["https://example.org/give", "Give"]],
        "txt": [["abc", "verify"], ["plain", None]],
        "podroll": [["917393e3-1b1e-5cef-ace4-edaa54e1f810", None]],
        "season_names": {"1": "2021"},
        "location_name": "Brussels",
        "location_geo": "geo:50.8466,4.3528",
        "location_osm": "R54094",
        "license": "cc-by-4.0",
        "license_url": "https://creativecommons.org/licenses/by/4.0/",
        "update_frequency": "FREQ=YEARLY",
        "update_frequency_text": "Yearly",
    }
    r = client.patch(SHOW, json=settings, headers=admin_headers)
    assert r.status_code == 200, r.json
    assert {k: r.json[k] for k in settings} == settings


def test_an_episode_summary_over_4000_bytes_is_refused(client, show, admin_headers):
    r = client.post(
        f"{SHOW}/episodes",
        headers=admin_headers,
        **multipart(audio=((AUDIO / "cbr.mp3").read_bytes(), "a.mp3"), description="€" * 1334),
    )
    assert r.status_code == 422 and "4002 bytes" in r.json["error"]["message"]
    assert db.session.query(MediaFile).count() == 0


def test_soundbites_must_fit_the_audio(client, show, admin_headers, make_episode):
    episode = make_episode()
    url = f"{SHOW}/episodes/{episode.id}"
    assert client.patch(url, json={"soundbites": [[5, 3, "Too late"]]}, headers=admin_headers).status_code == 422
    assert client.patch(url, json={"soundbites": [[0, 400]]}, headers=admin_headers).status_code == 422
    r = client.patch(url, json={"soundbites": "0:01 | 2.5 | The point"}, headers=admin_headers)
    assert r.status_code == 200 and r.json["soundbites"] == [{"start": 1.0, "duration": 2.5, "title": "The point"}]


@pytest.mark.jobs_wait
def test_renditions_and_the_warning_when_apple_has_nothing_to_play(client, show, admin_headers, make_episode, storage):
    """An episode from before the audio pipeline, with only an Opus file: the producer is told, and may add one."""
    opus_only = make_episode(audio="opus.opus", title="Opus only")
    # As migration 0007 left such an episode: served as it is, no master, no job.
    opus_only.audio_ready, opus_only.master, opus_only.audio_job = True, None, None
    db.session.commit()
    warning = "'Opus only' has no MP3 or M4A file, so Apple Podcasts will not list it"
    assert warning in client.get(f"{SHOW}/episodes/{opus_only.id}", headers=admin_headers).json["warnings"][0]
    assert warning in client.get(SHOW, headers=admin_headers).json["warnings"][0]

    url = f"{SHOW}/episodes/{opus_only.id}/alternates"
    added = client.post(url, headers=admin_headers, **multipart(audio=((AUDIO / "cbr.mp3").read_bytes(), "x.mp3")))
    assert added.status_code == 201 and added.json["warnings"] == []
    [alternate] = added.json["alternates"]
    assert alternate["mime_type"] == "audio/mpeg" and alternate["url"].endswith("/opus-only.mp3")
    assert client.get(SHOW, headers=admin_headers).json["warnings"] == []

    # The same file again, or another recording, is refused and leaves nothing behind.
    objects, rows = set(storage.keys()), db.session.query(MediaFile).count()
    again = client.post(url, headers=admin_headers, **multipart(audio=((AUDIO / "cbr.mp3").read_bytes(), "x.mp3")))
    assert again.status_code == 409 and "already has this file (MP3 at 64 kb/s)" in again.json["error"]["message"]
    other = (DEMO_EPISODES / "2021-shaping-belgiums-digital-future" / "audio.mp3").read_bytes()
    longer = client.post(url, headers=admin_headers, **multipart(audio=(other, "long.mp3")))
    assert longer.status_code == 422 and "must be the same recording" in longer.json["error"]["message"]
    assert set(storage.keys()) == objects and db.session.query(MediaFile).count() == rows

    removed = client.delete(f"{url}/{alternate['id']}", headers=admin_headers)
    assert removed.status_code == 200
    assert all(a["id"] != alternate["id"] for a in removed.json["alternates"])
    assert db.session.get(AlternateFile, alternate["id"]) is None


def test_folder_import_takes_the_feed_settings_and_renditions(runner, demo_folder):
    folder = demo_folder / "2021-shaping-belgiums-digital-future"
    shutil.copy(AUDIO / "opus.opus", folder / "audio.opus")
    toml = folder / "episode.toml"
    toml.write_text(
        toml.read_text().replace(
            'transcript = "transcript.vtt"', 'transcript = "transcript.vtt"\nalternates = ["audio.opus"]'
        )
    )
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    show = db.session.scalar(select(Show))
    assert show.podcast_guid == str(
        uuid.uuid5(
            uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"),
            "podcasts.example.org/shows/cyber-security-coalition/feed.xml",
        )
    )
    assert (show.location_name, show.season_names, show.update_frequency) == (
        "Brussels, Belgium",
        {"1": "2021"},
        "FREQ=YEARLY",
    )
    # The demo audio plays 116 s and the Opus fixture 6 s: not the same recording, refused, nothing half-made.
    assert result.exit_code == 1 and "must be the same recording" in result.output
    assert db.session.scalar(select(Episode)) is None
    assert db.session.query(MediaFile).count() == 1  # the show's cover

    # A real rendition: the 6 s MP3 fixture as the episode, the 6 s Opus one beside it.
    shutil.copy(AUDIO / "cbr.mp3", folder / "audio.mp3")
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    assert result.exit_code == 0, result.output
    [alternate] = db.session.scalar(select(Episode)).alternates
    assert alternate.media.mime_type == "audio/opus"

    toml.write_text(toml.read_text().replace('alternates = ["audio.opus"]', "alternates = []"))
    assert runner.invoke(args=["import-episodes", str(demo_folder)]).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(Episode)).alternates == []
    assert db.session.get(MediaFile, alternate.media_id) is None


def test_an_imported_feed_keeps_its_podcast_guid(app, tmp_path):
    rss = tmp_path / "old.xml"
    rss.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
  <title>Moving In</title><link>https://old.example.net/</link><description>A show from elsewhere.</description>
  <itunes:author>Someone</itunes:author><itunes:category text="Technology"/>
  <itunes:owner><itunes:name>Someone</itunes:name><itunes:email>someone@example.net</itunes:email></itunes:owner>
  <podcast:guid>{PODROLL_GUID}</podcast:guid>
</channel></rss>""")
    with feed_import.open_feed(str(rss)) as feed:
        show = feed_import.import_show(feed)
    assert show.podcast_guid == PODROLL_GUID
