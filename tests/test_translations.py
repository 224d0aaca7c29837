"""The catalogues are complete: every string the templates and the code mark is translated into Dutch, French
and German, with the same placeholders, and the compiled catalogues are those of the sources."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from fixtures.app import ROOT

from podcast_service.core.i18n import LANGUAGES

CATALOGUES = ROOT / "podcast_service" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def marked() -> set[str]:
    """Every string marked for translation, found as tools/update-translations.sh finds them (babel.cfg)."""
    found = set()
    method_map = [("podcast_service/**.py", "python"), ("templates/**.html", "jinja2")]
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture(scope="module")
def strings() -> set[str]:
    return marked()


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_marked_string_is_translated(language, strings):
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=language)
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(texts) and not message.fuzzy:
            translated[key] = message
    assert sorted(strings - set(translated)) == [], f"not in the {language} catalogue, or untranslated"
    # Placeholders the same as in English (Babel's python-format check).
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert problems == []


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_the_compiled_catalogue_is_the_source(language):
    folder = CATALOGUES / language / "LC_MESSAGES"

    def entries(catalog) -> dict:
        same = lambda value: tuple(value) if isinstance(value, (list, tuple)) else value  # noqa: E731
        return {same(m.id): same(m.string) for m in catalog if m.id}

    with (folder / "messages.po").open("rb") as fh:
        source = entries(read_po(fh, locale=language))
    compiled = entries(read_mo(io.BytesIO(Path(folder / "messages.mo").read_bytes())))
    assert compiled == source, "run tools/update-translations.sh to compile the catalogues"


# Words a page may show untranslated: units, protocol and format names, app names, robots directives.
UNTRANSLATED = {
    "MB",
    "MiB",
    "kb",
    "kbit",
    "Hz",
    "UTC",
    "guid",
    "AntennaPod",
    "noindex",
    "nofollow",
    "follow",
    "width",
    "device",
    "initial",
    "scale",
    "player",
    "nbsp",
}
# What a template shows the user: text between tags and the attributes read out or displayed.
_TEXT = re.compile(r">([^<>]+)<")
_SHOWN_ATTRIBUTE = re.compile(r"\b(?:aria-label|title|placeholder|alt)=\"([^\"]*)\"")
_CODE = re.compile(r"^(?:https?://\S+|geo:\S+|[a-z0-9.-]+|[A-Z]+=[A-Z0-9;=,]+|flask --app .*)$")


def unmarked(template: str) -> list[str]:
    """The template's own words left outside {{ _() }}: Jinja (comments, statements, expressions), scripts
    and styles taken out, then text nodes and shown attributes made of more than allowed words and code."""
    text = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", " ", template, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    found = []
    for piece in [m.group(1) for m in _TEXT.finditer(text)] + [m.group(1) for m in _SHOWN_ATTRIBUTE.finditer(text)]:
        piece = piece.strip()
        words = set(re.findall(r"[A-Za-z]{2,}", piece)) - UNTRANSLATED
        if words and not _CODE.match(piece):
            found.append(piece)
    return found


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.html"))
)
def test_no_template_shows_a_word_nobody_marked_for_translation(template):
    assert unmarked((ROOT / "templates" / template).read_text()) == []


def test_the_unmarked_word_check_finds_what_it_should():
    assert unmarked('<p>{{ _("Saved") }} · <a title="Open it">{{ x }}</a> Plain words</p>') == [
        "Plain words",
        "Open it",
    ]
    assert unmarked('<p>{{ size }} MB · UTC</p><input placeholder="https://example.org/feed.xml">') == []
