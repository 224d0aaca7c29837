"""Importing episode source folders: `episodes/show.toml` plus one folder per episode.

Each folder is fingerprinted (its episode.toml and every file it names); a
folder whose fingerprint matches the stored one is skipped without even
probing its audio, which is what makes a second import change nothing. Each
folder is imported in its own unit of work, so one bad folder neither stops
nor half-applies the others.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..catalogue import chapters as chapter_json
from ..catalogue.inputs import EpisodeInput, LinkInput, PersonInput, ShowInput, make_slug
from ..catalogue.service import AUDIO_SETTINGS, FEED_SETTINGS, save_episode, save_show
from ..core.errors import PodcastServiceError, ValidationError
from ..core.extensions import db
from ..media.storage.base import file_sha256
from ..models import Episode, Show

SHOW_FILE = "show.toml"
EPISODE_FILE = "episode.toml"
# Bump when the meaning of a source folder changes, so every folder is re-imported once.
# 2: episodes keep their transcript's parsed cues.
FORMAT_VERSION = "2"


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    source: Path
    outcome: Outcome
    message: str = ""


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"{path.name} is missing") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValidationError(f"{path.name} is not valid TOML: {e}") from None


def _file_in(folder: Path, name: object, what: str) -> Path:
    """A file named in a TOML file; it must exist inside the folder."""
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{what} must be a file name")
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents:
        raise ValidationError(f"{what} {name!r} is outside the folder")
    if not path.is_file():
        raise ValidationError(f"{what} {name!r} does not exist")
    return path


def _optional_file(folder: Path, data: dict, key: str, defaults: tuple[str, ...]) -> Path | None:
    if key in data:
        return _file_in(folder, data[key], key)
    return next((folder / d for d in defaults if (folder / d).is_file()), None)


def _fingerprint(toml_path: Path, files: list[Path | None]) -> str:
    sha = hashlib.sha256(FORMAT_VERSION.encode())
    sha.update(toml_path.read_bytes())
    for f in files:
        sha.update(b"\0" + (file_sha256(f).encode() if f else b"-"))
    return sha.hexdigest()


def _datetime(value: object) -> datetime | None:
    """A TOML date-time with offset; a bare date means midnight UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError("published must carry a time zone offset, e.g. 2022-03-01T09:00:00+01:00")
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    raise ValidationError("published must be a TOML date-time such as 2022-03-01T09:00:00+01:00")


def _tables(data: dict, key: str, cls: type) -> list:
    """An array of TOML tables ([[people]], [[links]]) as input objects."""
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValidationError(f"{key} must be a list of [[{key}]] tables")
    try:
        return [cls(**item) for item in items]
    except TypeError as e:
        raise ValidationError(f"{key}: {e}") from None


# show.toml keys with the same name and shape as ShowInput's fields.
PASSED_AS_IS = (*FEED_SETTINGS, *AUDIO_SETTINGS, "podcast_guid")


def import_show(folder: Path) -> tuple[Show, Outcome]:
    path = folder / SHOW_FILE
    data = _load_toml(path)
    image = _optional_file(folder, data, "image", ("cover.jpg", "cover.png"))
    fingerprint = _fingerprint(path, [image])
    slug = make_slug(data.get("slug"), str(data.get("title") or ""), "show slug")
    show = db.session.scalar(select(Show).where(Show.slug == slug))
    if show is not None and show.source_fingerprint == fingerprint:
        return show, Outcome.UNCHANGED
    outcome = Outcome.CREATED if show is None else Outcome.UPDATED
    show = save_show(
        ShowInput(
            slug=slug,
            title=data.get("title", ""),
            description=data.get("description", ""),
            language=data.get("language", "en"),
            author=data.get("author", ""),
            owner_name=data.get("owner_name", ""),
            owner_email=data.get("owner_email", ""),
            copyright=data.get("copyright"),
            website_url=data.get("website"),
            categories=data.get("categories", []),
            explicit=data.get("explicit", False),
            show_type=data.get("type", "episodic"),
            people=_tables(data, "people", PersonInput),
            **{key: data[key] for key in PASSED_AS_IS if key in data},
        ),
        image=image,
        fingerprint=fingerprint,
    )
    return show, outcome


def import_episode(show: Show, folder: Path) -> Outcome:
    path = folder / EPISODE_FILE
    data = _load_toml(path)
    audio = _file_in(folder, data.get("audio"), "audio")
    image = _optional_file(folder, data, "image", ("cover.jpg", "cover.png"))
    chapters_file = _optional_file(folder, data, "chapters", ("chapters.json",))
    transcript = _optional_file(folder, data, "transcript", ("transcript.vtt", "transcript.srt"))
    alternates = [_file_in(folder, name, "alternate") for name in data.get("alternates", [])]
    fingerprint = _fingerprint(path, [audio, image, chapters_file, transcript, *alternates])

    slug = make_slug(data.get("slug"), str(data.get("title") or ""), "episode slug")
    existing = db.session.scalar(select(Episode).where(Episode.show_id == show.id, Episode.slug == slug))
    if existing is None and data.get("guid"):
        existing = db.session.scalar(select(Episode).where(Episode.show_id == show.id, Episode.guid == data["guid"]))
    if existing is not None and existing.source_fingerprint == fingerprint:
        return Outcome.UNCHANGED

    chapters = None
    if chapters_file is not None:
        chapters = chapter_json.parse_json(chapters_file.read_text(encoding="utf-8"))
    save_episode(
        show,
        EpisodeInput(
            title=data.get("title", ""),
            slug=slug,
            summary=data.get("summary", ""),
            notes=data.get("notes", ""),
            published_at=_datetime(data.get("published")),
            season=data.get("season"),
            number=data.get("episode"),
            episode_type=data.get("type", "full"),
            explicit=data.get("explicit", False),
            guid=data.get("guid"),
            people=_tables(data, "people", PersonInput),
            links=_tables(data, "links", LinkInput),
            chapters=chapters,
            image=image,
            remove_image=image is None,
            transcript=transcript,
            remove_transcript=transcript is None,
            soundbites=data.get("soundbites", []),
            alternates=alternates,
        ),
        audio,
        existing=existing,
        fingerprint=fingerprint,
    )
    return Outcome.CREATED if existing is None else Outcome.UPDATED


def import_folder(root: Path) -> list[Result]:
    """Import the show described in root/show.toml and every episode folder under root."""
    if not (root / SHOW_FILE).is_file():
        raise ValidationError(f"{root} has no {SHOW_FILE} describing the show")
    show, outcome = import_show(root)
    results = [Result(root / SHOW_FILE, outcome)]
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / EPISODE_FILE).is_file()):
        try:
            results.append(Result(folder, import_episode(show, folder)))
        except PodcastServiceError as e:
            db.session.rollback()
            results.append(Result(folder, Outcome.FAILED, str(e)))
    return results
