"""MkDocs hook: the settings table of configuration.md, made from the settings' own definitions.

Each setting is defined once in podcast_service/core/settings.py (name, default, parser,
meaning); the page shows them, so it cannot drift from what the service accepts.
"""

from __future__ import annotations

import json
from typing import Any

MARKER = "<!-- settings-table -->"


def _default(value: Any) -> str:
    if value == "" or value == []:
        return "empty"
    return f"`{json.dumps(value) if not isinstance(value, str) else value}`"


def table() -> str:
    from podcast_service.core.settings import SETTINGS

    rows = ["| setting | environment variable | default | meaning |", "| --- | --- | --- | --- |"]
    for s in SETTINGS:
        meaning = s.doc.replace("|", "\\|")
        rows.append(f"| `{s.name}` | `{s.environment_variable}` | {_default(s.default)} | {meaning} |")
    rows.append("| — | `PODCAST_CONFIG` | `./config.toml` | another settings file to read instead |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    return markdown.replace(MARKER, table()) if MARKER in markdown else markdown
