"""Podcast Index JSON chapters (https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/examples/chapters/jsonChapters.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from ..core.errors import ValidationError
from ..media.audio.probe import ChapterInfo

VERSION = "1.2.0"


def parse_json(text: str) -> list[ChapterInfo]:
    """Chapters from a Podcast Index JSON document; ValidationError when malformed."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValidationError(_("chapters: not valid JSON (%(error)s)", error=e)) from None
    items = doc.get("chapters") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ValidationError(_('chapters: expected an object with a "chapters" list'))
    chapters = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise ValidationError(_("chapters: item %(number)s is not an object", number=i))
        start = item.get("startTime")
        end = item.get("endTime")
        if isinstance(start, bool) or not isinstance(start, (int, float)):
            raise ValidationError(_("chapters: item %(number)s needs a numeric startTime in seconds", number=i))
        if end is not None and (isinstance(end, bool) or not isinstance(end, (int, float)) or end < start):
            raise ValidationError(_("chapters: item %(number)s has an endTime before its startTime", number=i))
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ValidationError(_("chapters: item %(number)s needs a title", number=i))
        url = item.get("url")
        chapters.append(
            ChapterInfo(
                float(start),
                None if end is None else float(end),
                title.strip(),
                url if isinstance(url, str) and url else None,
            )
        )
    return chapters


def to_json(chapters: Iterable[Any]) -> dict:
    """The document served at an episode's chapters URL."""
    items = []
    for c in chapters:
        item: dict[str, Any] = {"startTime": round(c.start, 3), "title": c.title}
        if c.end is not None:
            item["endTime"] = round(c.end, 3)
        if c.url:
            item["url"] = c.url
        items.append(item)
    return {"version": VERSION, "chapters": items}


def read_file(path: Path) -> str:
    """The text of an uploaded chapters file; ValidationError unless it is UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationError(_("chapters: the file is not UTF-8 JSON text")) from None
