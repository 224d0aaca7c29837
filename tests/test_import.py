"""`flask import-episodes`: the demo folder in, idempotent, updates, and clean failures."""

from __future__ import annotations

import shutil

from fixtures.app import AUDIO
from sqlalchemy import func, select

from podcast_service.core.extensions import db
from podcast_service.models import Chapter, Episode, MediaFile, Show

EPISODE_DIR = "2021-shaping-belgiums-digital-future"


def snapshot(storage):
    rows = {
        table.__name__: db.session.execute(select(table)).scalars().all()
        for table in (Show, Episode, MediaFile, Chapter)
    }
    state = {
        "shows": [(s.slug, s.title, s.updated_at) for s in rows["Show"]],
        "episodes": [(e.guid, e.title, e.updated_at, e.audio.key) for e in rows["Episode"]],
        "media": sorted((m.key, m.sha256) for m in rows["MediaFile"]),
        "chapters": len(rows["Chapter"]),
        "objects": sorted(storage.keys()),
    }
    db.session.expire_all()
    return state


def test_demo_import_creates_the_show_and_episode(runner, demo_folder, storage):
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 0 unchanged, 0 failed" in result.output

    show = db.session.scalar(select(Show))
    assert show.title == "Cyber Security Coalition Podcast"
    assert show.categories == [["Technology", None], ["Government", None]]
    episode = db.session.scalar(select(Episode))
    assert episode.title == "Shaping Belgium's digital future"
    assert episode.status == "published"
    assert (episode.season, episode.number, episode.episode_type, episode.explicit) == (1, 1, "full", False)
    assert episode.audio.mime_type == "audio/mpeg"
    assert episode.audio.size == (demo_folder / EPISODE_DIR / "audio.mp3").stat().st_size
    assert 100 < episode.audio.duration < 130
    assert [c.title for c in episode.chapters][1] == "We are reaching more and more Belgians"
    assert [(c.name, c.role) for c in episode.credits][0] == ("Alexander De Croo", "guest")
    report = [link for link in episode.links if link.rel == "report"]
    assert report and "2021_activity_report" in report[0].url
    assert episode.transcript is not None and episode.transcript.mime_type == "text/vtt"
    # Objects exist for every media row, under generated keys, with the recorded checksum.
    assert sorted(storage.keys()) == sorted(m.key for m in db.session.scalars(select(MediaFile)))
    assert all("audio.mp3" not in key and "cover" not in key for key in storage.keys())


def test_second_import_changes_nothing(runner, demo_folder, storage):
    assert runner.invoke(args=["import-episodes", str(demo_folder)]).exit_code == 0
    before = snapshot(storage)
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    assert result.exit_code == 0
    assert "0 created, 0 updated, 2 unchanged, 0 failed" in result.output
    assert snapshot(storage) == before


def test_edited_metadata_updates_the_episode_in_place(runner, demo_folder, storage):
    assert runner.invoke(args=["import-episodes", str(demo_folder)]).exit_code == 0
    before = snapshot(storage)
    toml = demo_folder / EPISODE_DIR / "episode.toml"
    toml.write_text(
        toml.read_text().replace(
            'title = "Shaping Belgium\'s digital future"', 'title = "Shaping Belgium\'s digital future (remastered)"'
        )
    )
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    assert "0 created, 1 updated, 1 unchanged" in result.output
    after = snapshot(storage)
    [(guid, title, _, key)] = after["episodes"]
    assert title.endswith("(remastered)")
    assert guid == before["episodes"][0][0]
    assert key == before["episodes"][0][3]  # same audio, same object
    assert after["objects"] == before["objects"]


def test_replaced_audio_gets_a_new_object_and_keeps_the_guid(runner, demo_folder, storage):
    assert runner.invoke(args=["import-episodes", str(demo_folder)]).exit_code == 0
    before = snapshot(storage)
    shutil.copy(AUDIO / "vbr_noxing_tagged.mp3", demo_folder / EPISODE_DIR / "audio.mp3")
    # The new audio is shorter than the old chapters: take the file's own chapters instead.
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    assert result.exit_code == 0, result.output
    after = snapshot(storage)
    assert after["episodes"][0][0] == before["episodes"][0][0]
    old_key, new_key = before["episodes"][0][3], after["episodes"][0][3]
    assert old_key != new_key
    assert old_key not in after["objects"] and new_key in after["objects"]
    assert after["chapters"] == 2


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_damaged_audio_fails_cleanly(runner, demo_folder, storage):
    audio = demo_folder / EPISODE_DIR / "audio.mp3"
    audio.write_bytes(audio.read_bytes()[:5000] + b"\x00garbage" * 5000)
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    assert result.exit_code == 1
    assert f"failed  {demo_folder / EPISODE_DIR}: " in result.output
    assert "damaged" in result.output or "truncated" in result.output
    assert _count(Episode) == 0
    # Only the show's cover was stored; nothing of the episode.
    assert [m.key for m in db.session.scalars(select(MediaFile))] == list(storage.keys())
    assert len(list(storage.keys())) == 1


def test_text_file_as_audio_fails_cleanly(runner, demo_folder, storage):
    (demo_folder / EPISODE_DIR / "audio.mp3").write_text("<html>not audio</html>")
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    assert result.exit_code == 1
    assert "not audio" in result.output
    assert _count(Episode) == 0 and _count(Chapter) == 0
    assert len(list(storage.keys())) == 1


def test_bad_transcript_fails_after_audio_was_stored_and_removes_it(runner, demo_folder, storage):
    """The audio object is written before the transcript is checked; the failure must delete it."""
    (demo_folder / EPISODE_DIR / "transcript.vtt").write_text("WEBVTT\n\nthis line has no timing\n")
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    assert result.exit_code == 1
    assert "transcript" in result.output
    assert _count(Episode) == 0 and _count(MediaFile) == 1
    assert len(list(storage.keys())) == 1


def test_bad_toml_and_missing_show_file(runner, demo_folder, tmp_path):
    (demo_folder / EPISODE_DIR / "episode.toml").write_text("title = \n")
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    assert result.exit_code == 1 and "episode.toml is not valid TOML" in result.output

    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(args=["import-episodes", str(empty)])
    assert result.exit_code == 1
    assert "has no show.toml" in result.output
    assert "Traceback" not in result.output


def test_unknown_category_is_refused(runner, demo_folder):
    show_toml = demo_folder / "show.toml"
    show_toml.write_text(show_toml.read_text().replace('"Government"', '"Cybersecurity"'))
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    assert result.exit_code == 1
    assert "category 'Cybersecurity' is not in Apple's list" in result.output
    assert _count(Show) == 0


def test_file_outside_the_folder_is_refused(runner, demo_folder):
    toml = demo_folder / EPISODE_DIR / "episode.toml"
    toml.write_text(toml.read_text().replace('audio = "audio.mp3"', 'audio = "../../../etc/passwd"'))
    result = runner.invoke(args=["import-episodes", str(demo_folder)])
    assert result.exit_code == 1 and "outside the folder" in result.output
