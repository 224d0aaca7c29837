"""Settings: defaults < config file < PODCAST_* environment < test mapping, each validated."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from podcast_service.core.errors import SettingsError
from podcast_service.core.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_need_nothing(tmp_path):
    s = load_settings(environ={}, cwd=tmp_path)
    assert s.database_url == f"sqlite:///{tmp_path / 'instance' / 'podcast.db'}"
    assert s.storage_backend == "local"
    assert s.storage_path == tmp_path / "instance" / "media"
    assert s.base_url == "http://127.0.0.1:5000"
    assert s.secret_key == ""  # create_app makes a random one per process


def test_config_toml_in_working_directory(tmp_path):
    (tmp_path / "config.toml").write_text('base_url = "https://pod.example.org/"\nstorage_path = "media"\n')
    s = load_settings(environ={}, cwd=tmp_path)
    assert s.base_url == "https://pod.example.org"  # trailing slash dropped
    assert s.storage_path == tmp_path / "media"


def test_podcast_config_replaces_the_file_and_resolves_paths_against_it(tmp_path):
    (tmp_path / "config.toml").write_text('base_url = "https://ignored.example.org"\n')
    other = tmp_path / "etc" / "prod.toml"
    other.parent.mkdir()
    other.write_text('database_url = "sqlite:///data/pod.db"\nstorage_path = "media"\n')
    s = load_settings(environ={"PODCAST_CONFIG": str(other)}, cwd=tmp_path)
    assert s.base_url == "http://127.0.0.1:5000"
    assert s.database_url == f"sqlite:///{tmp_path / 'etc' / 'data' / 'pod.db'}"
    assert s.storage_path == tmp_path / "etc" / "media"


def test_environment_overrides_file_and_mapping_overrides_environment(tmp_path):
    (tmp_path / "config.toml").write_text(
        'base_url = "https://file.example.org"\nsecret_key = "from-file-5e8a1c3f7b9d2046"\n'
    )
    env = {
        "PODCAST_BASE_URL": "https://env.example.org",
        "PODCAST_DATABASE_URL": "postgresql+psycopg://u@db/pod",
        "PODCAST_STORAGE_BACKEND": "LOCAL",
        "PODCAST_STORAGE_PATH": "/srv/media",
        "PODCAST_SECRET_KEY": "from-env-0a7c3e9f1b5d8264c1e7a3f9b5d2",
    }
    s = load_settings(environ=env, cwd=tmp_path)
    assert (s.base_url, s.secret_key) == ("https://env.example.org", "from-env-0a7c3e9f1b5d8264c1e7a3f9b5d2")
    assert s.database_url == "postgresql+psycopg://u@db/pod"
    assert s.storage_backend == "local"
    assert s.storage_path == Path("/srv/media")
    s = load_settings({"base_url": "https://test.example.org"}, environ=env, cwd=tmp_path)
    assert s.base_url == "https://test.example.org"


def test_unknown_key_in_file_is_logged_not_fatal(tmp_path, caplog):
    (tmp_path / "config.toml").write_text('base_ulr = "https://typo.example.org"\n')
    with caplog.at_level(logging.WARNING, logger="podcast_service.core.settings"):
        s = load_settings(environ={}, cwd=tmp_path)
    assert "unknown setting 'base_ulr'" in caplog.text
    assert s.base_url == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"PODCAST_BASE_URL": "podcasts.example.org"},
            "base_url (from environment variable PODCAST_BASE_URL) must be an absolute",
        ),
        (
            {"PODCAST_STORAGE_BACKEND": "ftp"},
            "storage_backend (from environment variable PODCAST_STORAGE_BACKEND) must be one of",
        ),
        (
            {"PODCAST_DATABASE_URL": "podcast.db"},
            "database_url (from environment variable PODCAST_DATABASE_URL) must be an SQLAlchemy URL",
        ),
        ({"PODCAST_LOG_LEVEL": "loud"}, "log_level"),
        ({"PODCAST_CONFIG": "/nonexistent/config.toml"}, "config file /nonexistent/config.toml does not exist"),
        ({"PODCAST_SECRET_KEY": "hunter2"}, "secret_key (from environment variable PODCAST_SECRET_KEY) is too short"),
        ({"PODCAST_SECRET_KEY": "a" * 40}, "is too short or too simple"),
        ({"PODCAST_SECRET_KEY": "change-me-to-something-long-and-random"}, "placeholder"),
        ({"PODCAST_TRUSTED_PROXIES": "-1"}, "trusted_proxies"),
        ({"PODCAST_IMPORT_ALLOW_PRIVATE_NETWORKS": "maybe"}, "import_allow_private_networks"),
    ],
)
def test_bad_values_name_the_setting_and_its_origin(tmp_path, env, message):
    with pytest.raises(SettingsError) as exc:
        load_settings(environ=env, cwd=tmp_path)
    assert message in str(exc.value)


def test_wrong_type_in_file(tmp_path):
    (tmp_path / "config.toml").write_text("base_url = 5\n")
    with pytest.raises(SettingsError, match=r"base_url \(from config file .*config.toml\) must be a string"):
        load_settings(environ={}, cwd=tmp_path)


def test_malformed_toml(tmp_path):
    (tmp_path / "config.toml").write_text('base_url = "unterminated\n')
    with pytest.raises(SettingsError, match="is not valid TOML"):
        load_settings(environ={}, cwd=tmp_path)


def test_cli_reports_a_bad_config_in_one_line(tmp_path):
    """A user running `flask` with a broken config sees one error line, not a traceback."""
    bad = tmp_path / "bad.toml"
    bad.write_text("base_url = [\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODCAST_")}
    env["PODCAST_CONFIG"] = str(bad)
    proc = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "podcast_service", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 1
    assert errors[0].startswith(f"Error: config file {bad} is not valid TOML")


def _flask(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PODCAST_")}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "podcast_service", *args],
        cwd=cwd,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_command_run_from_the_wrong_folder_says_where_it_looked(tmp_path):
    proc = _flask(["list-episodes", "any-show"], tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: there is no database at")
    assert "config.toml" in lines[0] and "db upgrade" in lines[0]
    assert not (tmp_path / "instance" / "podcast.db").exists()


def test_a_command_on_an_unmigrated_database_names_the_fix(tmp_path):
    (tmp_path / "empty.db").write_bytes(b"")
    proc = _flask(["list-episodes", "any-show"], tmp_path, PODCAST_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert (
        "Error: the database has no schema yet: create it with `flask --app podcast_service db upgrade`" in proc.stderr
    )


def test_every_setting_is_in_the_configuration_page_with_its_meaning_and_variable():
    """docs/configuration.md's table is made from the settings' own definitions, so it names every one."""
    import importlib.util

    from podcast_service.core.settings import DEFAULTS, SETTINGS

    spec = importlib.util.spec_from_file_location("settings_table", ROOT / "docs" / "hooks" / "settings_table.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page = hook.on_page_markdown((ROOT / "docs" / "configuration.md").read_text(), page=None)
    assert hook.MARKER not in page
    for setting in SETTINGS:
        assert setting.doc.strip(), setting.name
        assert f"| `{setting.name}` | `PODCAST_{setting.name.upper()}` |" in page
    assert {s.name for s in SETTINGS} == set(DEFAULTS)


def test_gunicorn_takes_its_address_and_pools_from_the_settings(tmp_path):
    (tmp_path / "config.toml").write_text('bind = "127.0.0.1:9123"\nworkers = 3\nthreads = 5\n')
    s = load_settings(environ={}, cwd=tmp_path)
    assert (s.bind, s.workers, s.threads) == ("127.0.0.1:9123", 3, 5)
    with pytest.raises(SettingsError, match="threads"):
        load_settings(environ={"PODCAST_THREADS": "0"}, cwd=tmp_path)


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_urls_as_hosts_hand_them_out_are_taken(tmp_path, scheme):
    s = load_settings(environ={"PODCAST_DATABASE_URL": f"{scheme}://user:pw@db.example.org/podcast"}, cwd=tmp_path)
    assert s.database_url == "postgresql+psycopg://user:pw@db.example.org/podcast"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://127.0.0.1:5432/no_such_database_here", 'database "no_such_database_here" does not exist'),
        ("postgresql://nobody:secret@127.0.0.1:1/test", "Connection refused"),
        ("mysql://root@127.0.0.1/test", "must be an SQLite (sqlite:///FILE) or PostgreSQL"),
    ],
)
def test_an_unusable_database_url_is_one_error_line_naming_the_setting(tmp_path, url, expected):
    proc = _flask(["db", "upgrade"], tmp_path, PODCAST_DATABASE_URL=url)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0], proc.stderr
    assert "database_url" in lines[0] and "secret" not in lines[0]


def test_flask_run_refuses_a_folder_without_a_database_like_the_other_commands(tmp_path):
    proc = _flask(["run", "--port", "1"], tmp_path)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: there is no database at"), proc.stderr
    assert not (tmp_path / "instance" / "podcast.db").exists()


def test_only_what_serves_sessions_warns_about_the_secret_key(tmp_path):
    assert _flask(["db", "upgrade"], tmp_path).returncode == 0
    listed = _flask(["storage-check"], tmp_path)
    assert listed.returncode == 0 and "secret_key" not in listed.stderr, listed.stderr
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PODCAST_")}
    refused = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "podcast_service:create_app()"],
        cwd=tmp_path,
        env={**environ, "PODCAST_WORKERS": "3", "PODCAST_BIND": "127.0.0.1:1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "secret_key is not set, and each of the 3 workers" in refused.stderr
    assert "PODCAST_WORKERS=1" in refused.stderr
