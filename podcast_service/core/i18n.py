"""The languages the site speaks: English, Dutch, French and German (Flask-Babel; catalogues in translations/).

Public pages speak their show's language (its `language` setting) unless the
visitor chose another, and the choice is in the address (`?lang=nl`), never
in a cookie: public pages stay cookie-free, and each language version has an
address of its own for search engines (`hreflang` alternates). The admin
speaks the language each producer chose (a setting on their account), else
their browser's (Accept-Language). The API and the
command line stay English. Dates and numbers are formatted for the language.

Catalogues: `tools/update-translations.sh` extracts the strings and updates
them; tests/test_translations.py fails while one is missing or untranslated.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlencode

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, format_decimal, get_locale, get_timezone, lazy_gettext

from .settings import current_settings

LANGUAGES = {"en": "English", "nl": "Nederlands", "fr": "Français", "de": "Deutsch"}
DEFAULT = "en"


def primary(tag: str | None) -> str:
    """A language tag's language: `nl` for `nl-BE` or `nl_BE`."""
    return (tag or "").replace("_", "-").split("-")[0].strip().lower()


def supported(tag: str | None) -> str | None:
    """The language we speak for a tag such as `nl-BE` or `fr`, or None."""
    language = primary(tag)
    return language if language in LANGUAGES else None


def page_language(tag: str | None) -> None:
    """Say which language the page's own content is in (its show's): the default for its chrome."""
    g.page_language = supported(tag)


def page_versions(addresses: dict[str | None, str]) -> None:
    """Say where this page is in other languages (catalogue/languages.py: a show's or an episode's versions)."""
    g.page_versions = addresses


# How each language's dates and numbers are written: English as in Britain and Belgium (1 March 2022).
FORMATS = {"en": "en_GB"}


def select_locale() -> str:
    if not has_request_context():  # the command line and background jobs speak English
        return DEFAULT
    if request.blueprint == "api":
        code = DEFAULT
    elif request.blueprint == "admin":
        code = admin_language()
    else:
        code = chosen() or g.get("page_language") or DEFAULT
    return FORMATS.get(code, code)


def admin_language() -> str:
    """The producer's chosen language (their account's setting), else their browser's."""
    from flask_login import current_user

    chosen_by_user = current_user.language if current_user and current_user.is_authenticated else None
    return supported(chosen_by_user) or request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def language() -> str:
    """The page's language, as `lang` attributes name it."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def chosen() -> str | None:
    """The language the visitor chose in the address, if any: links to other public pages keep it."""
    return supported(request.args.get("lang"))


def alternates() -> list[tuple[str, str, str]]:
    """(language, its name, this page's address in it) for each language, for the switch and `hreflang`.
    The page's own language needs no `lang` in its address; a language the programme has a version in
    (another show, or the same episode in it) is that version's page."""
    own = g.get("page_language") or DEFAULT
    # On the site's own address (base_url), whatever Host the request named.
    page = current_settings().base_url.rstrip("/") + request.path
    args = {k: v for k, v in request.args.items() if k != "lang"}
    found = []
    versions = g.get("page_versions") or {}
    for code, name in LANGUAGES.items():
        if code in versions and code != own:  # the programme's own version in that language
            found.append((code, name, versions[code]))
            continue
        query = {**args, **({} if code == own else {"lang": code})}
        found.append((code, name, page + ("?" + urlencode(query) if query else "")))
    return found


def long_date(value: date) -> str:
    """A date (or a UTC time's day) as the page's language writes it in full (`1 maart 2022`), as Babel's
    format_date(value, 'long').

    A list page writes fifty of them: the locale's pattern is looked up once
    per request instead of once per date (Flask-Babel's format_date looks up
    the context, the time zone and the pattern again each time).
    """
    found = g.get("long_date_pattern")
    if found is None:
        locale = get_locale()
        found = g.long_date_pattern = (locale.date_formats["long"], locale, get_timezone())
    pattern, locale, zone = found
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone).date()
    return pattern.apply(value, locale)


def country_name(code: str) -> str:
    """A country's name in the page's language, from its ISO 3166 code (`BE`: België, Belgique, Belgien)."""
    return get_locale().territories.get(code.upper(), code)


def translated(names: dict) -> dict[str, str]:
    """A table of lazy names (STATUS_NAMES...) in the page's language, for a list that prints one a row:
    a lazy string looks its translation up again each time it is printed."""
    return {key: str(name) for key, name in names.items()}


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        language=language,
        chosen_language=chosen,
        language_alternates=alternates,
        LANGUAGES=LANGUAGES,
        STATUS_NAMES=STATUS_NAMES,
        IMPORT_STATES=IMPORT_STATES,
        translated=translated,
        country_name=country_name,
        long_date=long_date,
        format_decimal=format_decimal,
    )


# What error pages are called, in the page's language (the API keeps the HTTP names).
ERROR_TITLES = {
    400: lazy_gettext("Bad request"),
    401: lazy_gettext("Sign-in needed"),
    403: lazy_gettext("Not allowed"),
    404: lazy_gettext("Not found"),
    405: lazy_gettext("Method not allowed"),
    409: lazy_gettext("Conflict"),
    413: lazy_gettext("Too large"),
    415: lazy_gettext("Unsupported file type"),
    416: lazy_gettext("Range not satisfiable"),
    422: lazy_gettext("Cannot be processed"),
    429: lazy_gettext("Too many requests"),
    500: lazy_gettext("Server error"),
    503: lazy_gettext("Unavailable for now"),
}
# An episode's status, as the admin shows it.
STATUS_NAMES = {
    "draft": lazy_gettext("draft"),
    "scheduled": lazy_gettext("scheduled"),
    "published": lazy_gettext("published"),
    "withdrawn": lazy_gettext("withdrawn"),
}
# A feed import's state, as the admin lists it.
IMPORT_STATES = {
    "queued": lazy_gettext("queued"),
    "running": lazy_gettext("running"),
    "done": lazy_gettext("done"),
    "failed": lazy_gettext("failed"),
}
# Said when the error carries no message of its own (Werkzeug's are English).
ERROR_MESSAGES = {
    404: lazy_gettext("There is nothing at this address."),
    405: lazy_gettext("This address does not answer that kind of request."),
    500: lazy_gettext("Something went wrong on our side. Try again in a moment."),
}


def error_title(code: int, default: str) -> str:
    return str(ERROR_TITLES.get(code, default))


def error_message(code: int, default: str) -> str:
    return str(ERROR_MESSAGES.get(code, default))
