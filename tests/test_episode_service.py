"""Service rules that every entry point shares: guids, slugs, deletion, and the store kept in step."""

from __future__ import annotations

import pytest
from fixtures.app import AUDIO
from sqlalchemy import func, select

from podcast_service.catalogue.inputs import EpisodeInput
from podcast_service.catalogue.service import delete_episode, save_episode
from podcast_service.core.errors import ValidationError
from podcast_service.core.extensions import db
from podcast_service.models import Chapter, MediaFile


def test_delete_removes_rows_and_objects(make_episode, storage):
    episode = make_episode("vbr_noxing_tagged.mp3", title="Goes away")
    keys = [m.key for m in episode.media_files()]
    assert len(keys) == 3 and all(storage.exists(k) for k in keys)  # audio, its embedded cover, its waveform
    delete_episode(episode)
    assert not any(storage.exists(k) for k in keys)
    assert db.session.scalar(select(func.count()).select_from(MediaFile)) == 0
    assert db.session.scalar(select(func.count()).select_from(Chapter)) == 0


def test_duplicate_slug_in_a_show_is_refused_before_anything_is_stored(make_episode, show, storage):
    make_episode(title="Same title")
    before = sorted(storage.keys())
    with pytest.raises(ValidationError, match="already has an episode with the slug 'same-title'"):
        save_episode(show, EpisodeInput(title="Same title"), AUDIO / "cbr.mp3")
    assert sorted(storage.keys()) == before


def test_new_episodes_get_unique_guids_and_ascii_slugs(make_episode):
    a = make_episode(title="Café Überraschung: l'épisode")
    b = make_episode(title="Another")
    assert a.slug == "cafe-uberraschung-l-episode"
    assert a.guid != b.guid


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "  "}, "episode title is required"),
        ({"title": "x", "episode_type": "teaser"}, "episode type must be one of full, trailer, bonus"),
        ({"title": "x", "season": 0}, "season must be a whole number of 1 or more"),
        ({"title": "x", "slug": "Not A Slug"}, "must be lowercase ASCII words"),
    ],
)
def test_invalid_fields_are_refused_with_a_message(show, storage, fields, message):
    with pytest.raises(ValidationError, match=message):
        save_episode(show, EpisodeInput(**fields), AUDIO / "cbr.mp3")
    assert [k for k in storage.keys() if k.startswith("audio/")] == []
