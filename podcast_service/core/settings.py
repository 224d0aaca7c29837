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
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
    ffmpeg_path: str
    analytics: bool
    analytics_flush_seconds: int
    analytics_datacenter_ranges: str
    analytics_geoip_database: str
    analytics_log_file: str

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


DEFAULTS: dict[str, Any] = {
    "database_url": "sqlite:///instance/podcast.db",
    "storage_backend": "local",
    "storage_path": "instance/media",
    "secret_key": "",
    "base_url": "http://127.0.0.1:5000",
    "log_level": "INFO",
    "s3_bucket": "",
    "s3_endpoint_url": "",
    "s3_region": "",
    "s3_public_base_url": "",
    "upload_temp_path": "instance/uploads",
    "max_upload_mb": 8192,
    "websub_hubs": [],
    "pubnotify_urls": [],
    "announce_retry_seconds": 30,
    "trusted_proxies": 0,
    "import_allow_private_networks": False,
    "database_timeout_seconds": 10,
    "storage_timeout_seconds": 30,
    "min_free_disk_mb": 1024,
    "accel_redirect": "",
    "media_lookup_seconds": 5,
    "media_file_mode": "0640",
    "queue_url": "",
    "queue_name": "podcast",
    "jobs_immediate": False,
    "job_lease_seconds": 60,
    "ffmpeg_path": "ffmpeg",
    "analytics": True,
    "analytics_flush_seconds": 1,
    "analytics_datacenter_ranges": "",
    "analytics_geoip_database": "",
    "analytics_log_file": "",
}


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


def _database_url(value: Any) -> str:
    url = _text(value)
    if "://" not in url:
        raise ValueError("must be an SQLAlchemy URL such as sqlite:///instance/podcast.db")
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


PARSERS: dict[str, Callable[[Any], Any]] = {
    "database_url": _database_url,
    "storage_backend": _backend,
    "storage_path": _text,
    "secret_key": _secret_key,
    "base_url": lambda v: _url(v, "https://podcast.example.org", required=True),
    "log_level": _log_level,
    "s3_bucket": _text,
    "s3_endpoint_url": lambda v: _url(v, "http://127.0.0.1:8333", required=False),
    "s3_region": _text,
    "s3_public_base_url": lambda v: _url(v, "https://cdn.example.org/media", required=False),
    "upload_temp_path": _text,
    "max_upload_mb": _positive_int,
    "websub_hubs": _url_list,
    "pubnotify_urls": _url_list,
    "announce_retry_seconds": _positive_int,
    "trusted_proxies": _count,
    "import_allow_private_networks": _flag,
    "database_timeout_seconds": _positive_int,
    "storage_timeout_seconds": _positive_int,
    "min_free_disk_mb": _positive_int,
    "accel_redirect": _accel_prefix,
    "media_lookup_seconds": _count,
    "media_file_mode": _file_mode,
    "queue_url": _queue_url,
    "queue_name": _queue_name,
    "jobs_immediate": _flag,
    "job_lease_seconds": _positive_int,
    "ffmpeg_path": _text,
    "analytics": _flag,
    "analytics_flush_seconds": _positive_int,
    "analytics_datacenter_ranges": _optional_file,
    "analytics_geoip_database": _optional_file,
    "analytics_log_file": _log_path,
}
assert set(PARSERS) == {f.name for f in fields(Settings)} == set(DEFAULTS)


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
    if not values["secret_key"]:
        log.warning("secret_key is not set: using a random key, so sessions end when the process does")
        values["secret_key"] = secrets.token_hex(32)
    return Settings(**values)
