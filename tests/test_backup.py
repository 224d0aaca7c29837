"""`flask backup` and `flask restore`: a show with every kind of file round-trips into an empty instance."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from fixtures.app import AUDIO, DEMO_EPISODES, cli

from podcast_service.catalogue.service import add_alternate
from podcast_service.core.extensions import db
from podcast_service.models import Episode, MediaFile


@pytest.fixture
def empty_instance(other_instance):
    return other_instance()


def media_bytes(app) -> dict[str, bytes]:
    with app.app_context():
        stores = app.extensions["podcast_stores"]
        result = {}
        for row in db.session.query(MediaFile):
            with stores[row.backend].open(row.key) as fh:
                result[row.key] = fh.read()
        db.session.remove()
        return result


def test_a_show_with_every_kind_of_file_round_trips(
    app, runner, demo, make_episode, empty_instance, admin_headers, client, tmp_path
):
    add_alternate(make_episode("cbr.mp3"), AUDIO / "opus.opus")  # another show's episode with two renditions
    episode_id = demo.id
    r = client.patch(
        f"/api/v1/shows/cyber-security-coalition/episodes/{episode_id}",
        headers=admin_headers,
        json={"notes": "Read the **2021 report**.", "people": [{"name": "Alexander De Croo"}]},
    )
    assert r.status_code == 200
    original_feed = client.get("/shows/cyber-security-coalition/feed.xml").data
    original_files = media_bytes(app)
    kinds = {key.split("/")[0] for key in original_files}
    assert kinds >= {"audio", "images", "transcripts"} and len(original_files) >= 4

    dest = tmp_path / "backup"
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((dest / "manifest.json").read_text())
    assert len(manifest["files"]) == len(original_files) and manifest["tables"]["episodes"] == 2
    assert runner.invoke(args=["backup", str(dest)]).exit_code == 1  # never into a folder with something in it

    restored = cli(empty_instance, "restore", str(dest))
    assert restored.exit_code == 0, restored.output
    assert "database and store agree" in restored.output
    assert media_bytes(empty_instance) == original_files
    other = empty_instance.test_client()
    assert other.get("/shows/cyber-security-coalition/feed.xml").data == original_feed
    found = other.get("/shows/cyber-security-coalition/search?q=digital")  # the search index was rebuilt
    assert b"Shaping Belgium" in found.data and found.status_code == 200
    # Users and their tokens came along; new rows get new ids.
    assert other.get("/api/v1/shows", headers=admin_headers).status_code == 200
    r = other.post(
        "/api/v1/shows/cyber-security-coalition/episodes",
        headers=admin_headers,
        data={"audio": ((AUDIO / "cbr.mp3").open("rb"), "new.mp3"), "title": "After the restore"},
    )
    assert r.status_code == 201 and r.json["id"] != episode_id

    # A second restore into the now used instance is refused.
    again = cli(empty_instance, "restore", str(dest))
    assert again.exit_code == 1 and "empty" in again.output


def test_a_damaged_backup_is_refused_before_anything_is_written(app, runner, demo, empty_instance, tmp_path):
    dest = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(dest)]).exit_code == 0
    audio = next((dest / "media" / "audio").iterdir())
    audio.write_bytes(audio.read_bytes()[:-10])
    result = cli(empty_instance, "restore", str(dest))
    assert result.exit_code == 1 and "missing or damaged" in result.output and "Traceback" not in result.output
    with empty_instance.app_context():
        assert db.session.query(Episode).count() == 0
        assert list(empty_instance.extensions["podcast_stores"].primary.keys()) == []
        db.session.remove()


def test_the_database_queue_and_backups_are_readable_by_the_service_user_alone(tmp_path):
    """As an operator would run it, with the usual umask 022: nothing with secrets is group- or world-readable."""
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODCAST_")}
    env.update(
        PODCAST_DATABASE_URL=f"sqlite:///{instance / 'podcast.db'}",
        PODCAST_STORAGE_PATH=str(tmp_path / "media"),
        PODCAST_SECRET_KEY="tests-only-4f1d9a7c2b8e6035d1a9f7c3e5b2a8d0",
        PODCAST_BASE_URL="https://podcast.example.org",
    )

    def flask(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "podcast_service", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            preexec_fn=lambda: os.umask(0o022),
        )
        assert done.returncode == 0, done.stderr

    flask("db", "upgrade")
    flask("import-episodes", str(DEMO_EPISODES))
    flask("backup", str(tmp_path / "backup"))
    written = [instance, *instance.iterdir(), *(tmp_path / "backup").rglob("*"), tmp_path / "backup"]
    assert {p.name for p in instance.iterdir()} >= {"podcast.db", "queue.db"}
    assert any(p.suffix == ".mp3" for p in (tmp_path / "backup").rglob("*"))
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in written}
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}
