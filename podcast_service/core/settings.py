"""Typed settings, validated once at start-up.

Layers, each overriding the one before: built-in defaults < the TOML file
($PODCAST_CONFIG, else ./config.toml when present) < PODCAST_* environment
variables < the mapping a test passes to create_app. A bad value stops the
start with one line that names the setting and where it came from; an unknown
key in the file is logged and ignored, so a typo never passes silently.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

from .errors import SettingsError

log = logging.getLogger(__name__)

ENV_PREFIX = "PODCAST_"
STORAGE_BACKENDS = ("local", "s3")


@dataclass(frozen=True)
class Settings:
    database_url: str
    storage_backend: str
    storage_path: Path
    secret_key: str
    base_url: str
    log_level: str
    s3_bucket: str
    s3_endpoint_url: str
    s3_region: str
    s3_public_base_url: str
    upload_temp_path: Path
    max_upload_mb: int
    websub_hubs: tuple[str, ...]
    pubnotify_urls: tuple[str, ...]
    announce_retry_seconds: int
    max_audio_hours: int
    session_idle_hours: int
    session_max_days: int
    trusted_proxies: int
    import_allow_private_networks: bool
    database_timeout_seconds: int
    storage_timeout_seconds: int
    min_free_disk_mb: int
    accel_redirect: str
    media_lookup_seconds: int
    media_file_mode: int
    queue_url: str
    queue_name: str
    jobs_immediate: bool
    job_lease_seconds: int
    worker_nice: int
    ffmpeg_path: str
    analytics: bool
    analytics_flush_seconds: int
    analytics_datacenter_ranges: str
    analytics_geoip_database: str
    analytics_log_file: str
    bind: str
    workers: int
    threads: int

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value.strip()


def _optional_file(value: Any) -> str:
    """A file that must exist when given (read at start, so a typo fails the start, not every request)."""
    path = _text(value)
    if path and not Path(path).is_file():
        raise ValueError(f"{path} is not a file")
    return path


# How hosts hand out PostgreSQL URLs, and the driver the service installs (psycopg 3).
_POSTGRES_SCHEMES = ("postgres://", "postgresql://", "postgresql+psycopg2://")


def _database_url(value: Any) -> str:
    """An SQLite or PostgreSQL URL for SQLAlchemy; postgres:// and postgresql:// are taken as psycopg 3."""
    url = _text(value)
    if "://" not in url:
        raise ValueError("must be an SQLAlchemy URL such as sqlite:///instance/podcast.db")
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            url = "postgresql+psycopg://" + url.removeprefix(scheme)
    if not url.startswith(("sqlite://", "postgresql+psycopg://")):
        raise ValueError(
            f"must be an SQLite (sqlite:///FILE) or PostgreSQL (postgresql://USER@HOST/DB) URL, not {url.split('://')[0]}://"
        )
    return url


def _queue_url(value: Any) -> str:
    url = _text(value)
    if url and not url.startswith(("sqlite:///", "redis://", "rediss://")):
        raise ValueError("must be sqlite:///FILE (one machine) or redis://HOST:PORT/DB (workers on many machines)")
    return url


def _queue_name(value: Any) -> str:
    name = _text(value)
    if not name or not all(c.isalnum() or c in "-_." for c in name):
        raise ValueError("must be a name of letters, digits, '-', '_' or '.'")
    return name


def _backend(value: Any) -> str:
    name = _text(value).lower()
    if name not in STORAGE_BACKENDS:
        raise ValueError(f"must be one of {', '.join(STORAGE_BACKENDS)}")
    return name


def _url(value: Any, example: str, *, required: bool) -> str:
    url = _text(value).rstrip("/")
    if not url and not required:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be {'' if required else 'empty or '}an absolute http(s) URL such as {example}")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return url


def _positive_int(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("must be a whole number of 1 or more")
    return value


def _whole(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be a whole number of 0 or more")
    return value


def _count(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise ValueError("must be a whole number from 0 to 10")
    return value


def _flag(value: Any) -> bool:
    """true/false in TOML; from the environment 1/0, true/false, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return value.strip().lower() in ("1", "true", "yes", "on")
    raise ValueError("must be true or false")


# A set key must be one nobody else has: long, and not a placeholder copied from an example.
MIN_SECRET_KEY_LENGTH = 32
_PLACEHOLDER_WORDS = ("change", "replace", "example", "placeholder", "secret-key", "secretkey", "your", "xxxx")


def _secret_key(value: Any) -> str:
    """Empty means a random key per process (the demo); anything else must be a real secret."""
    key = _text(value)
    if not key:
        return key
    if len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < 10:
        raise ValueError(
            f"is too short or too simple: use at least {MIN_SECRET_KEY_LENGTH} random characters, "
            "e.g. from: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    if any(word in key.lower() for word in _PLACEHOLDER_WORDS):
        raise ValueError("looks like a placeholder from an example; use a random value of your own")
    return key


def _accel_prefix(value: Any) -> str:
    """Empty, or the path of nginx's internal location for the media folder, e.g. /_media."""
    prefix = _text(value).rstrip("/")
    if prefix and (not prefix.startswith("/") or not all(c.isalnum() or c in "/_-." for c in prefix)):
        raise ValueError("must be empty or a path such as /_media (nginx's internal location)")
    return prefix


def _log_path(value: Any) -> str:
    """Empty, or where nginx writes its media log: an absolute path (nginx's and the service's working folders
    differ)."""
    path = _text(value)
    if path and not path.startswith("/"):
        raise ValueError("must be empty or an absolute path")
    return path


def _file_mode(value: Any) -> int:
    """Octal permission bits such as "0640" (TOML and the environment alike)."""
    text = _text(value) if isinstance(value, str) else ""
    if not text or not all(c in "01234567" for c in text) or int(text, 8) > 0o777 or not int(text, 8) & 0o400:
        raise ValueError('must be octal permissions the service can read, as text such as "0640"')
    return int(text, 8)


def _url_list(value: Any) -> tuple[str, ...]:
    """A TOML array of URLs, or (from the environment) URLs separated by commas or spaces."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list):
        raise ValueError("must be a list of URLs")
    return tuple(_url(v, "https://pubsubhubbub.appspot.com/", required=True) for v in value)


def _log_level(value: Any) -> str:
    level = _text(value).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return level


@dataclass(frozen=True)
class Setting:
    """One setting: its name (and PODCAST_NAME in the environment), default, parser and meaning.

    The parser turns a value from TOML, the environment or a mapping into the typed value, or
    raises ValueError saying what is wrong. docs/configuration.md is made from these.
    """

    name: str
    default: Any
    parse: Callable[[Any], Any]
    doc: str

    @property
    def environment_variable(self) -> str:
        return ENV_PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        "sqlite:///instance/podcast.db",
        _database_url,
        "SQLAlchemy URL; production: `postgresql+psycopg://user@host/db`",
    ),
    Setting("storage_backend", "local", _backend, "where media is kept: `local` or `s3`"),
    Setting(
        "storage_path",
        "instance/media",
        _text,
        "folder of the `local` backend; with nginx in front, also where the service leaves what nginx sends alone (`.published/`: links to public audio, public feeds' files), whichever backend holds the media",
    ),
    Setting("s3_bucket", "", _text, "bucket of the `s3` backend (required with it)"),
    Setting(
        "s3_endpoint_url",
        "",
        lambda v: _url(v, "http://127.0.0.1:8333", required=False),
        "endpoint of SeaweedFS, MinIO, R2...; path-style addressing is used when set",
    ),
    Setting("s3_region", "", _text, "region name, where the store needs one"),
    Setting(
        "s3_public_base_url",
        "",
        lambda v: _url(v, "https://cdn.example.org/media", required=False),
        "public URL of the bucket or its CDN; empty: clients get short-lived presigned URLs",
    ),
    Setting(
        "base_url",
        "http://127.0.0.1:5000",
        lambda v: _url(v, "https://podcast.example.org", required=True),
        "public address; every URL in feeds and pages starts with it",
    ),
    Setting(
        "secret_key",
        "",
        _secret_key,
        'signs session cookies and CSRF tokens; set it in production (one key for all workers: gunicorn refuses to start more than one worker without it, and `flask run` warns). Unset, each process makes a random key, so sign-ins end with the process. A set key must have at least 32 characters of some variety and must not look like a placeholder ("change-me", "example"...): make one with `python -c \'import secrets; print(secrets.token_hex(32))\'`',
    ),
    Setting(
        "max_audio_hours",
        12,
        _positive_int,
        "the longest audio accepted (uploads, imports, alternates), checked from the file's header before any job runs",
    ),
    Setting(
        "session_idle_hours",
        24,
        _positive_int,
        "a signed-in session unused this long ends; the producer signs in again",
    ),
    Setting(
        "session_max_days",
        30,
        _positive_int,
        "a signed-in session ends this long after its sign-in, however much it is used",
    ),
    Setting(
        "trusted_proxies",
        0,
        _count,
        "how many reverse proxies stand in front (nginx: 1; a CDN then nginx: 2). The client's address and scheme are then taken from the last that many `X-Forwarded-For` / `X-Forwarded-Proto` entries (werkzeug's ProxyFix); with 0 those headers are ignored. Sign-in throttling keys on this address, so set it behind a proxy, or every client shares the proxy's address",
    ),
    Setting(
        "database_timeout_seconds",
        10,
        _positive_int,
        "the longest wait on the database: connecting, a statement or lock wait (PostgreSQL, also a client-side watchdog for a server that stops answering), or another writer (SQLite)",
    ),
    Setting(
        "storage_timeout_seconds",
        30,
        _positive_int,
        "S3 read timeout (connecting: 5 s); `/healthz` checks the bucket with a 1 s limit",
    ),
    Setting(
        "min_free_disk_mb",
        1024,
        _positive_int,
        "`/healthz` turns unavailable when the disk of the database, the media folder or the upload spools has less free",
    ),
    Setting(
        "accel_redirect",
        "",
        _accel_prefix,
        "with nginx in front: the path of its internal location for the media folder (`/_media` in `deploy/nginx.conf`). Media of the local store are then answered with headers and `X-Accel-Redirect`, and nginx sends the bytes; empty: Python sends them",
    ),
    Setting(
        "media_lookup_seconds",
        5,
        _count,
        "how long each process keeps what a media URL is (the file, the episode it belongs to) and, with `accel_redirect`, its headers-only answer, so an app's many ranged requests cost no query; 0 to 10. A change made in the same process is seen at once; another process (worker or machine) goes on serving a just-withdrawn file until its copy expires. 0 also stops nginx sending public audio alone (every request reaches the service)",
    ),
    Setting(
        "media_file_mode",
        "0640",
        _file_mode,
        "permissions of stored media files and of the feed files left for nginx (octal, as text): group-readable, so nginx in the service user's group can send them",
    ),
    Setting(
        "queue_url",
        "",
        _queue_url,
        "the job queue (Huey): an SQLite file for one machine, or `redis://HOST:6379/0` for web and worker processes on many machines",
    ),
    Setting(
        "queue_name",
        "podcast",
        _queue_name,
        "the queue's name in that store: instances sharing one Redis need different names",
    ),
    Setting(
        "jobs_immediate",
        False,
        _flag,
        "run each job inside the request that queued it (Huey's immediate mode): for tests and scripts, never for production",
    ),
    Setting(
        "ffmpeg_path",
        "ffmpeg",
        _text,
        "the ffmpeg command line (Debian's `ffmpeg` package) that encodes renditions' MP3, three times faster than the FFmpeg inside PyAV, which is used when none is found; empty: always PyAV's",
    ),
    Setting(
        "job_lease_seconds",
        60,
        _positive_int,
        "how long a worker holds an audio job without reporting progress before another worker takes it over (a worker that died)",
    ),
    Setting(
        "worker_nice",
        10,
        _count,
        "how much lower the job worker's CPU priority is (`nice`, up to 19; 0 keeps it): on a machine that also serves, encoding then takes what listeners and uploads leave",
    ),
    Setting("analytics", True, _flag, "record enclosure requests and count downloads (see Downloads below)"),
    Setting(
        "analytics_flush_seconds",
        1,
        _positive_int,
        "how often each process writes the enclosure requests it has gathered, in one batch",
    ),
    Setting(
        "analytics_datacenter_ranges",
        "",
        _optional_file,
        "a file of CIDR blocks (one a line, `#` comments) whose requests are servers, not listeners: not counted. None is shipped",
    ),
    Setting(
        "analytics_geoip_database",
        "",
        _optional_file,
        "a MaxMind DB file (GeoLite2 Country or City, DB-IP's country database) for downloads by country; only the two-letter code is kept. None is shipped",
    ),
    Setting(
        "analytics_log_file",
        "",
        _log_path,
        "with nginx in front (`deploy/nginx.conf`): the file nginx writes its media log to (`/run/podcast/media.log` there, on tmpfs). gunicorn makes it at start if missing (refusing anything but a file it can read and free) and a worker counts the lines and frees them, so nginx may send a public episode's audio alone, without asking the service each time; empty: every counted media request goes through the service",
    ),
    Setting(
        "import_allow_private_networks",
        False,
        _flag,
        "let `import-feed` fetch from loopback, private and link-local addresses (tests, closed networks); off, such addresses are refused after name resolution and on every redirect",
    ),
    Setting("max_upload_mb", 8192, _positive_int, "largest file an upload may carry; checked while the bytes arrive"),
    Setting(
        "upload_temp_path",
        "instance/uploads",
        _text,
        "folder on disk where uploads are spooled before they are probed and stored (never the RAM-backed `/tmp`)",
    ),
    Setting(
        "websub_hubs",
        [],
        _url_list,
        'WebSub hubs named in every public feed and pinged on each change, e.g. `["https://pubsubhubbub.appspot.com/"]` (environment: separated by commas)',
    ),
    Setting(
        "pubnotify_urls",
        [],
        _url_list,
        'directories told of each change with `GET URL?url=FEED`, e.g. `["https://api.podcastindex.org/api/1.0/hub/pubnotify"]`',
    ),
    Setting(
        "announce_retry_seconds",
        30,
        _positive_int,
        "first delay before a failed ping is retried; each further one is four times longer, five attempts in all",
    ),
    Setting("log_level", "INFO", _log_level, "`DEBUG`, `INFO`, `WARNING` or `ERROR`"),
    Setting("bind", "127.0.0.1:8000", _text, "the address gunicorn listens on (`gunicorn.conf.py`), behind nginx"),
    Setting("workers", 0, _whole, "gunicorn's worker processes; 0: two per core, plus one"),
    Setting(
        "threads",
        16,
        _positive_int,
        "threads per gunicorn worker: each holds one request (a slow download, an upload being probed)",
    ),
)
DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}
PARSERS: dict[str, Callable[[Any], Any]] = {s.name: s.parse for s in SETTINGS}
assert set(PARSERS) == {f.name for f in fields(Settings)}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"config file {path} is not valid TOML: {e}") from None
    except OSError as e:
        raise SettingsError(f"config file {path} cannot be read: {e.strerror}") from None


def _config_path(environ: Mapping[str, str], cwd: Path) -> Path | None:
    explicit = environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        return Path(explicit)
    default = cwd / "config.toml"
    return default if default.is_file() else None


def _resolve(raw: str, base: Path) -> str:
    """Make a relative filesystem path (or SQLite file) absolute against `base`."""
    if raw.startswith("sqlite:///") and not raw.startswith("sqlite:////"):
        file_part = raw[len("sqlite:///") :]
        if file_part and file_part != ":memory:":
            return "sqlite:///" + str((base / file_part).resolve())
        return raw
    if "://" in raw:
        return raw
    return str((base / raw).resolve())


def _default_queue(database_url: str, cwd: Path) -> str:
    """An SQLite queue file beside an SQLite database (one folder holds the instance), else in ./instance."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        return f"sqlite:///{Path(database_url.removeprefix('sqlite:///')).parent / 'queue.db'}"
    return "sqlite:///" + str((cwd / "instance" / "queue.db").resolve())


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Build the settings from every layer; raise SettingsError on the first bad value.

    Relative paths are resolved against the directory of the layer that set
    them (the config file's folder, or the working directory), so the same
    config works whatever directory the server is started from.
    """
    environ = os.environ if environ is None else environ
    cwd = cwd or Path.cwd()
    raw: dict[str, tuple[Any, str, Path]] = {k: (v, "default", cwd) for k, v in DEFAULTS.items()}

    path = _config_path(environ, cwd)
    if path is not None:
        data = _read_toml(path)
        for key, value in data.items():
            if key not in DEFAULTS:
                log.warning("config file %s: unknown setting %r ignored", path, key)
                continue
            raw[key] = (value, f"config file {path}", path.resolve().parent)

    for key in DEFAULTS:
        env_name = ENV_PREFIX + key.upper()
        if env_name in environ:
            raw[key] = (environ[env_name], f"environment variable {env_name}", cwd)

    for key, value in (overrides or {}).items():
        if key not in DEFAULTS:
            raise SettingsError(f"unknown setting {key!r}")
        raw[key] = (value, "overrides", cwd)

    values: dict[str, Any] = {}
    for key, (value, origin, base) in raw.items():
        try:
            parsed = PARSERS[key](value)
        except ValueError as e:
            raise SettingsError(f"{key} (from {origin}) {e}") from None
        if key in ("database_url", "storage_path", "upload_temp_path") or (key == "queue_url" and parsed):
            parsed = _resolve(parsed, base)
        values[key] = parsed
    if not values["queue_url"]:
        values["queue_url"] = _default_queue(values["database_url"], cwd)
    values["storage_path"] = Path(values["storage_path"])
    values["upload_temp_path"] = Path(values["upload_temp_path"])
    if values["storage_backend"] == "s3" and not values["s3_bucket"]:
        raise SettingsError("storage_backend is s3 but s3_bucket is not set (PODCAST_S3_BUCKET)")
    return Settings(**values)


# What `flask run` and a one-worker gunicorn say when no secret_key is set.
NO_SECRET_KEY = "secret_key is not set: a random key signs sessions, so sign-ins end when this process does"


def current_settings(app: Flask | None = None) -> Settings:
    """The settings of `app`, or of the app handling this request, command or job: the one way code reads them."""
    return (app or current_app).config["PODCAST"]
