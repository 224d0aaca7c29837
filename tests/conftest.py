"""Shared fixtures: an app on a fresh database and media folder, its clients, and factories."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest

from podcast_service import create_app
from podcast_service.episodes import save_episode, save_show
from podcast_service.extensions import db
from podcast_service.inputs import EpisodeInput, ShowInput
from podcast_service.models import Episode, utcnow

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
AUDIO = FIXTURES / "audio"
MANIFEST = json.loads((AUDIO / "manifest.json").read_text())
DEMO_EPISODES = ROOT / "episodes"
BASE_URL = "https://podcasts.example.org"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No PODCAST_* variable or ./config.toml of the developer's leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("PODCAST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def app_config(tmp_path):
    return {
        "database_url": f"sqlite:///{tmp_path / 'test.db'}",
        "storage_path": str(tmp_path / "media"),
        "base_url": BASE_URL,
        "secret_key": "test-secret",
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        flask_migrate.upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def storage(app):
    return app.extensions["podcast_storage"]


@pytest.fixture
def show(app):
    return save_show(ShowInput(
        slug="test-show", title="Test Show", description="A show for tests.", author="Tester",
        owner_name="Owner", owner_email="owner@example.org", categories=["Technology"],
    ))


@pytest.fixture
def make_episode(show, tmp_path):
    """Create an episode through the service, published an hour ago unless told otherwise."""
    counter = iter(range(1, 10_000))

    def make(audio: str = "cbr.mp3", *, published_at: datetime | None | str = "past", **fields):
        n = next(counter)
        if published_at == "past":
            published_at = utcnow() - timedelta(hours=n)
        fields.setdefault("title", f"Episode {n}")
        return save_episode(show, EpisodeInput(published_at=published_at, **fields), AUDIO / audio)

    return make


@pytest.fixture
def demo_folder(tmp_path):
    """A private copy of the demo episodes/ folder, safe to edit."""
    target = tmp_path / "episodes"
    shutil.copytree(DEMO_EPISODES, target)
    return target


@pytest.fixture
def demo(runner, demo_folder):
    """The demo show imported through the CLI; returns its one episode."""
    assert runner.invoke(args=["import-episodes", str(demo_folder)]).exit_code == 0
    return db.session.query(Episode).one()
