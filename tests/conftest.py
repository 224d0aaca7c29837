"""Shared fixtures: an app on a fresh database and media folder, its clients, and factories."""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import re
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask.testing import FlaskClient
from services import S3_KEY, S3_SECRET, SeaweedFS, postgres_schema
from sqlalchemy import event, text

from podcast_service import create_app
from podcast_service.catalogue.inputs import EpisodeInput, ShowInput
from podcast_service.catalogue.service import save_episode, save_show
from podcast_service.core.extensions import db
from podcast_service.models import Episode, utcnow

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
AUDIO = FIXTURES / "audio"
MANIFEST = json.loads((AUDIO / "manifest.json").read_text())
DEMO_EPISODES = ROOT / "episodes"
BASE_URL = "https://podcasts.example.org"
# The machine's Redis (the production queue); tests use a queue name of their own in it.
REDIS_URL = "redis://127.0.0.1:6379/0"


STACKS = ("sqlite-local", "postgres-s3")


def pytest_addoption(parser):
    parser.addoption(
        "--stack", choices=STACKS, default="sqlite-local", help="database and media store every app fixture uses"
    )


def pytest_report_header(config):
    return f"stack: {config.getoption('stack')}"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No PODCAST_* or AWS_* variable, nor a ./config.toml, of the developer's leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("PODCAST_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real SeaweedFS server for the whole session, stopped at its end."""
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(seaweedfs):
    name = seaweedfs.new_bucket()
    yield name
    seaweedfs.drop_bucket(name)


@pytest.fixture
def app_config(request, tmp_path):
    # Jobs run inside the requests that queue them (Huey's immediate mode); tests/test_jobs.py runs real
    # workers on each stack's queue instead.
    # A test marked `jobs_wait` sees jobs stay queued, as when no worker is running.
    config = {
        "base_url": BASE_URL,
        "secret_key": "tests-only-4f1d9a7c2b8e6035d1a9f7c3e5b2a8d0",
        "jobs_immediate": request.node.get_closest_marker("jobs_wait") is None,
    }
    if request.config.getoption("stack") == "sqlite-local":
        config.update(database_url=f"sqlite:///{tmp_path / 'test.db'}", storage_path=str(tmp_path / "media"))
        yield config
        return
    seaweedfs = request.getfixturevalue("seaweedfs")
    bucket = request.getfixturevalue("s3_bucket")
    with postgres_schema() as url:
        config.update(
            database_url=url,
            storage_backend="s3",
            s3_bucket=bucket,
            s3_endpoint_url=seaweedfs.endpoint,
            s3_region="us-east-1",
            queue_url=REDIS_URL,
            queue_name=f"test-{uuid.uuid4().hex}",
        )
        yield config


@pytest.fixture
def other_instance(request, app_config, tmp_path):
    """A factory of more instances of the same stack, each with its own database and store, migrated and
    empty: `other_instance(base_url=...)` (settings given override the test's)."""
    with contextlib.ExitStack() as stack:

        def make(**overrides):
            number = len(made) + 1
            config = dict(app_config)
            if request.config.getoption("stack") == "sqlite-local":
                config.update(
                    database_url=f"sqlite:///{tmp_path / f'other-{number}.db'}",
                    storage_path=str(tmp_path / f"other-{number}"),
                )
            else:
                seaweedfs = request.getfixturevalue("seaweedfs")
                bucket = seaweedfs.new_bucket()
                stack.callback(seaweedfs.drop_bucket, bucket)
                config.update(database_url=stack.enter_context(postgres_schema()), s3_bucket=bucket)
            config.update(upload_temp_path=str(tmp_path / f"other-{number}-spools"), **overrides)
            app = create_app(config)
            app.test_client_class = RequestClient
            migrate(app)
            stack.callback(dispose_app, app)
            made.append(app)
            return app

        made: list = []
        yield make


def dispose_app(app) -> None:
    """Let go of the app's database before its schema is dropped: the analytics writer's last batch first.

    Every fixture ends its apps here. Disposing of the engine alone, while the writer still held a
    connection for a batch, left that connection out of any pool, unclosed: its ResourceWarning then
    failed whichever test the garbage collector ran in.
    """
    held = app.extensions.get("podcast_analytics")
    if held is not None:
        held.close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def cli(app, *args: str):
    """Run a command against `app` (the test's own app context would otherwise be used)."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    migrate(app)
    with app.app_context():
        yield app
    dispose_app(app)


def migrate(app) -> None:
    """`flask db upgrade` for a test's database, done once per process and then copied.

    Upgrading each test's new database took half a second on SQLite (each
    migration's table copies, each with its own sync) and a third on
    PostgreSQL, some four minutes of a run. So the first empty database each
    process migrates is the model: on SQLite later ones are a copy of its file;
    on PostgreSQL the statements its upgrade ran are run again in the new,
    empty schema, in one transaction (the way Rails and Django load a schema
    rather than replaying history). Nothing differs from an upgrade:
    tests/test_migrations.py runs the migrations themselves, and a database
    with something in it is upgraded.
    """
    url = app.config["PODCAST"].database_url
    with app.app_context():
        if url.startswith("sqlite:///"):
            target = Path(url.removeprefix("sqlite:///"))
            if not target.exists():
                shutil.copyfile(_sqlite_model(app), target)
                return
        elif not db.session.scalar(text("SELECT EXISTS (SELECT FROM pg_tables WHERE schemaname = current_schema())")):
            db.session.remove()
            if _MIGRATION_STATEMENTS:
                _replay(_MIGRATION_STATEMENTS)
            else:
                _MIGRATION_STATEMENTS.extend(_recorded_upgrade())
            return
        flask_migrate.upgrade()


_MIGRATED_SQLITE: list[Path] = []
_MIGRATION_STATEMENTS: list[tuple[str, Any, bool]] = []


def _sqlite_model(app) -> Path:
    """This process's migrated empty SQLite database, made on first use."""
    if not _MIGRATED_SQLITE:
        folder = Path(tempfile.mkdtemp(prefix="migrated-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        model = create_app(
            {
                "base_url": BASE_URL,
                "secret_key": app.config["SECRET_KEY"],
                "database_url": f"sqlite:///{folder / 'empty.db'}",
                "storage_path": str(folder / "media"),
            }
        )
        with model.app_context():
            flask_migrate.upgrade()
            with db.engine.connect() as connection:  # everything in the main file, none in the WAL
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.session.remove()
            db.engine.dispose()
        _MIGRATED_SQLITE.append(folder / "empty.db")
    return _MIGRATED_SQLITE[0]


def _recorded_upgrade() -> list[tuple[str, Any, bool]]:
    """The upgrade, and every statement it sent to the driver, as it sent it."""
    statements: list[tuple[str, Any, bool]] = []
    here = threading.get_ident()

    def keep(_connection, _cursor, statement, parameters, _context, many) -> None:
        if threading.get_ident() == here:
            statements.append((statement, parameters, many))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        flask_migrate.upgrade()
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return statements


def _replay(statements: list[tuple[str, Any, bool]]) -> None:
    """The statements sent again through the driver, exactly as SQLAlchemy called it, in one transaction."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        for statement, parameters, many in statements:
            (cursor.executemany if many else cursor.execute)(statement, parameters)
        connection.commit()
    finally:
        connection.close()


class RequestClient(FlaskClient):
    """Each request in an app context of its own, as in production.

    The test itself runs inside the app fixture's context; without this, every
    request would share its `g` (and with it Flask-Login's cached user and
    Flask-WTF's cached CSRF token) and its database session.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = RequestClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def storage(app):
    return app.extensions["podcast_stores"].primary


@pytest.fixture
def show(app):
    return save_show(
        ShowInput(
            slug="test-show",
            title="Test Show",
            description="A show for tests.",
            author="Tester",
            owner_name="Owner",
            owner_email="owner@example.org",
            categories=["Technology"],
        )
    )


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


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: dict[str, str]
    data: bytes
    redirected: bool


def wait_for(condition, timeout: float = 20, what: str = "condition", logs=()):
    """Poll `condition` until it returns something true, and return that; fail after `timeout` seconds,
    with the logs of the server or worker processes given (`log_path`) to say why."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} not met within {timeout} s\n" + "\n".join(p.log_path.read_text() for p in logs))


def fetch(client, path: str, method: str = "GET", **headers: str) -> Fetched:
    """Request through the app and, if it redirects to the object store, on to the store over real HTTP.

    This is what a podcast app does with an enclosure URL, so media tests hold
    for the local backend (served by the app) and S3 (served by SeaweedFS) alike.
    """
    r = client.open(path, method=method, headers=headers, buffered=True)
    if r.status_code not in (301, 302, 303, 307, 308):
        return Fetched(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.data, False)
    request = urllib.request.Request(r.location, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return Fetched(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read(), True)
    except urllib.error.HTTPError as e:
        with e:
            return Fetched(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read(), True)


def policy(response) -> dict[str, list[str]]:
    """A response's Content-Security-Policy as {directive: [sources]}."""
    return {
        name: values
        for name, *values in (
            part.split() for part in response.headers["Content-Security-Policy"].split(";") if part.strip()
        )
    }


PASSWORD = "correct horse battery"


@pytest.fixture
def admin_user(app):
    from podcast_service.accounts import service as accounts

    return accounts.create_user("admin@example.org", PASSWORD, admin=True)


@pytest.fixture
def make_token(app):
    """An API token's header for a user (default: a new admin), with the given scopes."""
    from podcast_service.accounts import service as accounts

    def make(user=None, scopes=("read", "write")) -> dict[str, str]:
        if user is None:
            user = accounts.create_user(f"user{next(counter)}@example.org", PASSWORD)
        _token, secret = accounts.create_token(user, "tests", list(scopes))
        return {"Authorization": f"Bearer {secret}"}

    counter = iter(range(1, 10_000))
    return make


@pytest.fixture
def admin_headers(admin_user, make_token):
    return make_token(admin_user)


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/admin/login") -> str:
    """The CSRF token a form on `path` carries, as a browser would submit it."""
    page = client.get(path)
    match = CSRF_FIELD.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, email: str = "admin@example.org", password: str = PASSWORD):
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


@pytest.fixture
def signed_in(client, admin_user):
    assert sign_in(client).status_code == 302
    return client


def multipart(**fields) -> dict:
    """Keyword arguments for client.open sending a multipart form built in memory.

    (werkzeug's test client spools large bodies to temporary files it never
    closes, which filterwarnings=error turns into failures.) A file is given
    as (bytes, filename).
    """
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    values = {
        name: FileStorage(io.BytesIO(value[0]), filename=value[1]) if isinstance(value, tuple) else value
        for name, value in fields.items()
    }
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}
