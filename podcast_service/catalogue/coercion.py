"""Loose field values (form text, JSON, CLI options) turned into typed inputs.

The admin form, the API (JSON bodies and multipart fields) and the CLI send
the same fields in different clothes: "true", True or "on"; a list of objects
or lines of "Name | role | title". This module is the one place that reads
them; the rules the values must then meet live in inputs.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core.errors import ValidationError
from ..media.audio.probe import ChapterInfo
from . import chapters as chapter_json
from .categories import format_category
from .inputs import EpisodeInput, LinkInput, PersonInput, ShowInput, publication
from .service import SHOW_FIELDS, people_inputs

TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off", ""}


def boolean(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise ValidationError(_("%(what)s must be true or false", what=what))


def integer(value: Any, what: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValidationError(_("%(what)s must be a whole number", what=what))


def timestamp(value: Any, what: str) -> datetime | None:
    """An ISO 8601 date and time with a UTC offset ("2026-12-01T09:00:00+01:00" or "...Z")."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationError(
            _("%(what)s must be an ISO 8601 date and time with an offset, e.g. 2026-12-01T09:00:00Z", what=what)
        )
    return parsed


def clock(value: str, what: str) -> float:
    """Seconds from "83.5", "1:23" or "1:01:23.5"."""
    try:
        parts = [float(p) for p in value.strip().split(":")]
    except ValueError:
        parts = []
    if not 1 <= len(parts) <= 3 or any(p < 0 for p in parts):
        raise ValidationError(
            _("%(what)s: %(value)s is not a time such as 1:23 or 1:01:23", what=what, value=repr(value))
        )
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds


def _structured(value: Any) -> Any:
    """JSON text is decoded; anything else is returned as it came."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError as e:
            raise ValidationError(_("not valid JSON: %(error)s", error=e)) from None
    return value


def _lines(value: str) -> list[list[str]]:
    """Non-empty lines split on '|', each part stripped: the textarea format of lists."""
    return [[part.strip() for part in line.split("|")] for line in value.splitlines() if line.strip()]


def _records(value: Any, what: str, names: tuple[str, ...], cls: type) -> list:
    value = _structured(value)
    if value is None:
        return []
    if isinstance(value, str):
        value = [dict(zip(names, parts)) for parts in _lines(value)]
        for item in value:
            if len(item) > len(names):
                raise ValidationError(
                    _(
                        "%(what)s: at most %(count)s parts per line (%(parts)s)",
                        what=what,
                        count=len(names),
                        parts=" | ".join(names),
                    )
                )
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValidationError(_("%(what)s must be a list of objects", what=what))
    try:
        return [cls(**{k: v for k, v in item.items() if v not in ("", None)}) for item in value]
    except TypeError as e:
        raise ValidationError(f"{what}: {e}") from None


def people(value: Any) -> list[PersonInput]:
    return _records(value, _l("people"), ("name", "role", "title", "href", "img", "group"), PersonInput)


def links(value: Any) -> list[LinkInput]:
    return _records(value, _l("links"), ("title", "url", "rel"), LinkInput)


def chapter_list(value: Any) -> list[ChapterInfo]:
    """Podcast Index JSON chapters, a list of {start, title, url}, or lines of "1:23 | Title | url"."""
    value = _structured(value)
    if isinstance(value, dict):
        return chapter_json.parse_json(json.dumps(value))
    if isinstance(value, str):
        value = [dict(zip(("start", "title", "url"), parts)) for parts in _lines(value)]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValidationError(_("chapters must be a list of objects with start and title"))
    result = []
    for i, item in enumerate(value, 1):
        start = item.get("start", item.get("startTime"))
        if isinstance(start, str):
            start = clock(start, f"chapter {i}")
        if isinstance(start, bool) or not isinstance(start, (int, float)):
            raise ValidationError(_("chapter %(number)s needs a start time", number=i))
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ValidationError(_("chapter %(number)s needs a title", number=i))
        result.append(ChapterInfo(float(start), None, title.strip(), item.get("url") or None))
    return result


def pairs(value: Any, what: str) -> list[list[str]]:
    """Lists of two-part entries (funding, txt, podroll): JSON lists, objects' values, or "a | b" lines."""
    value = _structured(value)
    if value is None:
        return []
    if isinstance(value, str):
        value = _lines(value)
    if not isinstance(value, list):
        raise ValidationError(_("%(what)s must be a list of entries", what=what))
    return [list(item.values()) if isinstance(item, dict) else item for item in value]


def season_names(value: Any) -> dict:
    """{"1": "2021"} as JSON, or lines of "1 | 2021"."""
    value = _structured(value)
    if isinstance(value, str):
        value = {parts[0]: parts[-1] for parts in _lines(value)}
    if not isinstance(value, dict):
        raise ValidationError(_("season names must map season numbers to names"))
    return value


def subscribe_links(value: Any) -> dict:
    """{"apple": "https://..."} as JSON, or lines of "apple | https://..."."""
    value = _structured(value)
    if isinstance(value, str):
        value = {parts[0].strip().lower(): parts[-1].strip() for parts in _lines(value)}
    if not isinstance(value, dict):
        raise ValidationError(_("subscribe links must map apps to the show's URL there"))
    return value


def soundbites(value: Any) -> list[list]:
    """[[start, duration, title], ...] as JSON, or lines of "1:23 | 30 | title" (start as a time)."""
    value = _structured(value)
    if isinstance(value, str):
        value = _lines(value)
    if not isinstance(value, list):
        raise ValidationError(_("soundbites must be a list"))
    result = []
    for i, item in enumerate(value, 1):
        if isinstance(item, dict):
            item = [item.get("start", item.get("startTime")), item.get("duration"), item.get("title")]
        if isinstance(item, list) and len(item) >= 2:
            item = [clock(v, f"soundbite {i}") if isinstance(v, str) and n < 2 else v for n, v in enumerate(item)]
        result.append(item)
    return result


def categories(value: Any) -> list[str]:
    value = _structured(value)
    if isinstance(value, str):
        value = [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_('categories must be a list such as ["Technology", "News > Tech News"]'))
    return value


EPISODE_TEXT = ("title", "slug", "summary", "notes", "guid")
SHOW_TEXT = (
    "title",
    "slug",
    "description",
    "language",
    "author",
    "owner_name",
    "owner_email",
    "copyright",
    "website_url",
    "show_type",
    "new_feed_url",
    "medium",
    "location_name",
    "location_geo",
    "location_osm",
    "license",
    "license_url",
    "update_frequency",
    "update_frequency_text",
    "measurement_prefix",
)
SHOW_FLAGS = ("explicit", "block", "complete", "private", "locked", "normalize_masters", "normalize_compressed")
SHOW_NUMBERS = {"audio_bitrate": _l("audio bitrate"), "audio_channels": _l("audio channels")}
SHOW_PAIRS = ("funding", "txt", "podroll")


def episode_changes(fields: Mapping[str, Any], current: EpisodeInput, now: datetime) -> EpisodeInput:
    """`current` with the fields that were given applied; fields not given keep their value.

    `status` with `publish_at` goes through inputs.publication; `description`
    is accepted for `summary` and `type` for `episode_type`, as the API
    documents.
    """
    changes: dict[str, Any] = {}
    for name in EPISODE_TEXT:
        if name in fields:
            changes[name] = fields[name] if fields[name] is not None else ""
    if "description" in fields and "summary" not in fields:
        changes["summary"] = fields["description"] or ""
    for name, what in (("season", _l("season")), ("number", _l("episode number"))):
        if name in fields:
            changes[name] = integer(fields[name], what)
    if "type" in fields or "episode_type" in fields:
        changes["episode_type"] = fields.get("episode_type", fields.get("type"))
    if "explicit" in fields:
        changes["explicit"] = boolean(fields["explicit"], _l("explicit"))
    if "people" in fields:
        changes["people"] = people(fields["people"])
    if "links" in fields:
        changes["links"] = links(fields["links"])
    if "chapters" in fields:
        changes["chapters"] = chapter_list(fields["chapters"])
    if "soundbites" in fields:
        changes["soundbites"] = soundbites(fields["soundbites"])
    if "status" in fields or "publish_at" in fields:
        status = fields.get("status") or _status_of(current, now)
        changes["published_at"], changes["withdrawn"] = publication(
            status, timestamp(fields.get("publish_at"), "publish_at"), current.published_at, now
        )
    return replace(current, **changes)


def _status_of(data: EpisodeInput, now: datetime) -> str:
    if data.withdrawn:
        return "unpublished"
    if data.published_at is None:
        return "draft"
    return "scheduled" if data.published_at > now else "published"


def show_changes(fields: Mapping[str, Any], current: ShowInput) -> ShowInput:
    """`current` with the given show fields applied (see episode_changes)."""
    changes: dict[str, Any] = {}
    for name in SHOW_TEXT:
        if name in fields:
            changes[name] = fields[name] if fields[name] is not None else ""
    if "type" in fields and "show_type" not in fields:
        changes["show_type"] = fields["type"]
    for name in SHOW_FLAGS:
        if name in fields:
            changes[name] = boolean(fields[name], name)
    for name, what in SHOW_NUMBERS.items():
        if name in fields:
            changes[name] = integer(fields[name], what)
    for name in SHOW_PAIRS:
        if name in fields:
            changes[name] = pairs(fields[name], name)
    if "season_names" in fields:
        changes["season_names"] = season_names(fields["season_names"])
    if "subscribe_links" in fields:
        changes["subscribe_links"] = subscribe_links(fields["subscribe_links"])
    if "categories" in fields:
        changes["categories"] = categories(fields["categories"])
    if "people" in fields:
        changes["people"] = people(fields["people"])
    return replace(current, **changes)


def show_input(show: Any) -> ShowInput:
    """A stored show's fields as an input, to change some of them."""
    values = {name: getattr(show, name) for name in SHOW_FIELDS}
    values["categories"] = [format_category(c) for c in show.categories]
    return ShowInput(slug=show.slug, people=people_inputs(show.credits), **values)
