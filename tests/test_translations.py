"""The catalogues are complete: every string the templates and the code mark is translated into Dutch, French
and German, with the same placeholders, and the compiled catalogues are those of the sources."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from conftest import ROOT
from podcast_service.i18n import LANGUAGES

CATALOGUES = ROOT / "podcast_service" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


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
    def entries(catalog) -> dict:  # noqa: ANN001
        same = lambda value: tuple(value) if isinstance(value, (list, tuple)) else value  # noqa: E731
        return {same(m.id): same(m.string) for m in catalog if m.id}

    with (folder / "messages.po").open("rb") as fh:
        source = entries(read_po(fh, locale=language))
    compiled = entries(read_mo(io.BytesIO(Path(folder / "messages.mo").read_bytes())))
    assert compiled == source, "run tools/update-translations.sh to compile the catalogues"
