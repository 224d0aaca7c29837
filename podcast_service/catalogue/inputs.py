"""What a producer gives us for a show or an episode, with the rules it must meet.

Every entry point (folder import, and later the admin form and the API)
builds these objects and calls the same service functions, so each rule is
written once, here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from slugify import slugify

from ..core.errors import ValidationError
from ..core.xmltext import clean
from ..media.audio.probe import ChapterInfo
from ..models import EPISODE_TYPES, MEDIUMS, SHOW_TYPES
from .categories import parse_category

# Apple's limit for a show's or an episode's description, in bytes of UTF-8.
DESCRIPTION_BYTES = 4000


def require_text(value: object, what: str, *, max_len: int = 255, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(_("%(what)s must be text", what=what))
    value = clean(value).strip()
    if required and not value:
        raise ValidationError(_("%(what)s is required", what=what))
    if len(value) > max_len:
        raise ValidationError(_("%(what)s is longer than %(most)s characters", what=what, most=max_len))
    return value


def require_url(value: object, what: str) -> str:
    url = require_text(value, what, max_len=1000)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(_("%(what)s must be an absolute http(s) URL, not %(url)s", what=what, url=repr(url)))
    return url


def optional_url(value: object, what: str) -> str | None:
    return require_url(value, what) if value else None


def description(value: object, what: str, *, required: bool) -> str:
    """Plain text within Apple's 4,000 bytes (UTF-8, so accented text holds fewer characters)."""
    text = require_text(value, what, max_len=DESCRIPTION_BYTES, required=required)
    size = len(text.encode("utf-8"))
    if size > DESCRIPTION_BYTES:
        raise ValidationError(
            _(
                "%(what)s is %(size)s bytes long; Apple Podcasts allows %(most)s",
                what=what,
                size=size,
                most=DESCRIPTION_BYTES,
            )
        )
    return text


def _pairs(
    value: object,
    what: str,
    first: str,
    second: str,
    *,
    first_url: bool = False,
    second_url: bool = False,
    second_required: bool = True,
) -> list[list[str | None]]:
    """[[a, b], ...] lists of the show's Podcasting 2.0 fields, each part checked."""
    if not isinstance(value, (list, tuple)):
        raise ValidationError(_("%(what)s must be a list", what=what))
    result = []
    for item in value:
        if not isinstance(item, (list, tuple)) or not 1 <= len(item) <= 2:
            raise ValidationError(
                _("%(what)s: each entry is %(first)s | %(second)s", what=what, first=first, second=second)
            )
        a, b = (list(item) + [None])[:2]
        a = require_url(a, f"{what} {first}") if first_url else require_text(a, f"{what} {first}", max_len=128)
        if second_url:
            b = optional_url(b, f"{what} {second}") if not second_required else require_url(b, f"{what} {second}")
        else:
            b = require_text(b, f"{what} {second}", max_len=255, required=second_required) or None
        result.append([a, b])
    return result


_RRULE = re.compile(r"^(?:[A-Z]+=[A-Z0-9,+-]+;)*[A-Z]+=[A-Z0-9,+-]+$")
_GEO = re.compile(r"^geo:-?\d{1,2}(?:\.\d+)?,-?\d{1,3}(?:\.\d+)?(?:,-?\d+(?:\.\d+)?)?(?:;u=\d+(?:\.\d+)?)?$")
_OSM = re.compile(r"^[NWR]\d+(?:#\d+)?$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _matching(value: object, what: str, pattern: re.Pattern, example: str) -> str | None:
    text = require_text(value, what, required=False) or None
    if text is not None and not pattern.match(text):
        raise ValidationError(
            _("%(what)s %(value)s is not valid; for example %(example)s", what=what, value=repr(text), example=example)
        )
    return text


def make_slug(value: object, fallback: str, what: str = _l("slug")) -> str:
    """An ASCII slug, safe in URLs and file names; derived from the title when not given."""
    text = require_text(value, what, max_len=150, required=False) or fallback
    slug = slugify(text, max_length=100, word_boundary=True)
    if not slug:
        raise ValidationError(_("%(what)s: cannot make a URL slug from %(value)s", what=what, value=repr(text)))
    if value and slug != value:
        raise ValidationError(
            _(
                "%(what)s %(value)s must be lowercase ASCII words joined by '-', e.g. %(slug)s",
                what=what,
                value=repr(value),
                slug=repr(slug),
            )
        )
    return slug


def optional_positive_int(value: object, what: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(_("%(what)s must be a whole number of 1 or more", what=what))
    return value


@dataclass(frozen=True)
class PersonInput:
    name: str
    role: str = "guest"
    group: str = "cast"
    title: str | None = None
    href: str | None = None
    img: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", require_text(self.name, _l("person name")))
        object.__setattr__(self, "role", require_text(self.role, _l("person role"), max_len=50).lower())
        object.__setattr__(self, "group", require_text(self.group, _l("person group"), max_len=50).lower())
        object.__setattr__(self, "title", require_text(self.title, _l("person title"), required=False) or None)
        object.__setattr__(self, "href", optional_url(self.href, _l("link of %(name)s", name=self.name)))
        object.__setattr__(self, "img", optional_url(self.img, _l("image of %(name)s", name=self.name)))


@dataclass(frozen=True)
class LinkInput:
    title: str
    url: str
    rel: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", require_text(self.title, _l("link title")))
        object.__setattr__(self, "url", require_url(self.url, _l("link %(title)s", title=repr(self.title))))
        object.__setattr__(self, "rel", require_text(self.rel, _l("link rel"), max_len=30, required=False) or None)


# At most this many per episode: far more than any real episode carries, and a page, a feed and the chapters
# file of an episode that has them all still cost little to build and send.
MAX_CHAPTERS = 500
MAX_SOUNDBITES = 50
MAX_PEOPLE = 100


def _at_most(items: list | tuple, most: int, what: str) -> None:
    if len(items) > most:
        raise ValidationError(
            _(
                "an episode may have at most %(most)s %(what)s; this one has %(count)s",
                most=most,
                what=what,
                count=len(items),
            )
        )


def check_chapters(chapters: list[ChapterInfo], duration: float) -> list[ChapterInfo]:
    """Chapters sorted by start, each starting inside the audio; at most MAX_CHAPTERS."""
    _at_most(chapters, MAX_CHAPTERS, _l("chapters"))
    ordered = sorted(
        (replace(c, title=require_text(c.title, _l("chapter title"))) for c in chapters), key=lambda c: c.start
    )
    for c in ordered:
        if c.start < 0 or c.start >= duration:
            raise ValidationError(
                _(
                    "chapter %(title)s starts at %(start).3f s, outside the audio (0 to %(end).3f s)",
                    title=repr(c.title),
                    start=c.start,
                    end=duration,
                )
            )
        if c.url:
            require_url(c.url, _l("link of chapter %(title)s", title=repr(c.title)))
    return ordered


# Apps and directories a show page offers subscribe buttons for, with the producer's link to the show there.
SUBSCRIBE_APPS = {
    "apple": "Apple Podcasts",
    "spotify": "Spotify",
    "pocketcasts": "Pocket Casts",
    "overcast": "Overcast",
    "youtube": "YouTube Music",
    "amazon": "Amazon Music",
    "deezer": "Deezer",
    "castbox": "Castbox",
    "podcastaddict": "Podcast Addict",
    "podcastindex": "Podcast Index",
}
# MP3 bitrates (kb/s) a show's renditions may have: 64 mono is Apple's advice for speech, 128 stereo for music.
MP3_BITRATES = (32, 48, 64, 96, 128, 160, 192)


@dataclass(frozen=True)
class ShowInput:
    slug: str
    title: str
    description: str
    language: str = "en"
    author: str = ""
    owner_name: str = ""
    owner_email: str = ""
    copyright: str | None = None
    website_url: str | None = None
    categories: list[Any] = field(default_factory=list)  # text given; [category, subcategory] once validated
    explicit: bool = False
    show_type: str = "episodic"
    people: list[PersonInput] = field(default_factory=list)
    block: bool = False
    complete: bool = False
    private: bool = False
    new_feed_url: str | None = None
    locked: bool = True
    medium: str = "podcast"
    funding: list = field(default_factory=list)  # [[url, text], ...]
    location_name: str | None = None
    location_geo: str | None = None
    location_osm: str | None = None
    license: str | None = None
    license_url: str | None = None
    update_frequency: str | None = None
    update_frequency_text: str | None = None
    txt: list = field(default_factory=list)  # [[text, purpose or None], ...]
    podroll: list = field(default_factory=list)  # [[feed guid, feed url or None], ...]
    season_names: dict = field(default_factory=dict)  # {season number: name}
    # A show imported from another host keeps its identity; taken only when the show is created.
    podcast_guid: str | None = None
    audio_bitrate: int = 64  # kb/s of the MP3 made from a master; the Opus rendition gets half
    audio_channels: int = 1
    normalize_masters: bool = True
    normalize_compressed: bool = False
    subscribe_links: dict = field(default_factory=dict)  # {app key: URL of the show in that app}
    # Put before the public feed's enclosure URLs for an external measurement service (OP3, Podtrac...).
    measurement_prefix: str = ""

    def validated(self) -> ShowInput:
        title = require_text(self.title, _l("show title"))
        if self.show_type not in SHOW_TYPES:
            raise ValidationError(_("show type must be one of %(choices)s", choices=", ".join(SHOW_TYPES)))
        if not isinstance(self.explicit, bool):
            raise ValidationError(_("explicit must be true or false"))
        if not self.categories:
            raise ValidationError(_("a show needs at least one category from Apple's list"))
        for name in ("explicit", "block", "complete", "private", "locked", "normalize_masters", "normalize_compressed"):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError(_("%(what)s must be true or false", what=name))
        if not isinstance(self.subscribe_links, dict):
            raise ValidationError(_("subscribe links must map apps to the show's URL there"))
        unknown = sorted(set(self.subscribe_links) - set(SUBSCRIBE_APPS))
        if unknown:
            raise ValidationError(
                _(
                    "subscribe links: %(app)s is not one of %(choices)s",
                    app=repr(unknown[0]),
                    choices=", ".join(SUBSCRIBE_APPS),
                )
            )
        links = {
            app: require_url(url, _l("%(app)s link", app=SUBSCRIBE_APPS[app]))
            for app, url in self.subscribe_links.items()
            if url
        }
        if self.audio_bitrate not in MP3_BITRATES:
            raise ValidationError(
                _("audio bitrate must be one of %(choices)s (kb/s)", choices=", ".join(map(str, MP3_BITRATES)))
            )
        if self.audio_channels not in (1, 2):
            raise ValidationError(_("audio channels must be 1 (mono) or 2 (stereo)"))
        if self.medium not in MEDIUMS:
            raise ValidationError(_("medium must be one of %(choices)s", choices=", ".join(MEDIUMS)))
        if not isinstance(self.season_names, dict):
            raise ValidationError(_("season names must map season numbers to names"))
        seasons = {}
        for number, name in self.season_names.items():
            if not str(number).isdigit() or int(number) < 1:
                raise ValidationError(_("season names: %(number)s is not a season number", number=repr(number)))
            seasons[str(int(number))] = require_text(name, _l("name of season %(number)s", number=number), max_len=128)
        frequency = _matching(self.update_frequency, _l("update frequency"), _RRULE, "FREQ=MONTHLY")
        frequency_text = (
            require_text(self.update_frequency_text, _l("update frequency text"), max_len=128, required=bool(frequency))
            or None
        )
        podroll = _pairs(
            self.podroll, _l("podroll"), _l("feed guid"), _l("feed URL"), second_url=True, second_required=False
        )
        for feed_guid, _feed_url in podroll:
            if not _UUID.match(feed_guid or ""):
                raise ValidationError(_("podroll: %(guid)s is not a podcast:guid (a UUID)", guid=repr(feed_guid)))
        return ShowInput(
            slug=make_slug(self.slug, title, _l("show slug")),
            title=title,
            description=description(self.description, _l("show description"), required=True),
            language=require_text(self.language, _l("language"), max_len=20),
            author=require_text(self.author, _l("author")),
            owner_name=require_text(self.owner_name, _l("owner name")),
            owner_email=require_text(self.owner_email, _l("owner email")),
            copyright=require_text(self.copyright, _l("copyright"), required=False) or None,
            website_url=optional_url(self.website_url, _l("website")),
            categories=[parse_category(c) for c in self.categories],
            explicit=self.explicit,
            show_type=self.show_type,
            people=list(self.people),
            block=self.block,
            complete=self.complete,
            private=self.private,
            new_feed_url=optional_url(self.new_feed_url, _l("new feed URL")),
            locked=self.locked,
            medium=self.medium,
            funding=_pairs(self.funding, _l("funding"), _l("URL"), _l("text"), first_url=True),
            location_name=require_text(self.location_name, _l("location name"), max_len=128, required=False) or None,
            location_geo=_matching(self.location_geo, _l("location geo URI"), _GEO, "geo:50.8466,4.3528"),
            location_osm=_matching(self.location_osm, _l("location OpenStreetMap id"), _OSM, "R54094"),
            license=require_text(self.license, _l("license"), max_len=128, required=False) or None,
            license_url=optional_url(self.license_url, _l("license URL")),
            update_frequency=frequency,
            update_frequency_text=frequency_text,
            txt=_pairs(self.txt, _l("txt"), _l("text"), _l("purpose"), second_required=False),
            podroll=podroll,
            season_names=seasons,
            podcast_guid=_matching(
                self.podcast_guid, _l("podcast guid"), _UUID, "ead4c236-bf58-58c6-a2c6-a6b28d128cb6"
            ),
            audio_bitrate=self.audio_bitrate,
            audio_channels=self.audio_channels,
            normalize_masters=self.normalize_masters,
            normalize_compressed=self.normalize_compressed,
            subscribe_links=links,
            measurement_prefix=_measurement_prefix(self.measurement_prefix),
        )


def _measurement_prefix(value: object) -> str:
    """An https URL ending in '/', such as https://op3.dev/e/; empty for none."""
    text = require_text(value, _l("measurement prefix"), max_len=200, required=False) or ""
    if text and (
        not text.startswith("https://") or not text.endswith("/") or not require_url(text, _l("measurement prefix"))
    ):
        raise ValidationError(_("measurement prefix must be an https URL ending in '/', such as https://op3.dev/e/"))
    return text


PUBLICATION_STATES = ("draft", "scheduled", "published", "unpublished")


def publication(
    status: object, publish_at: datetime | None, current: datetime | None, now: datetime
) -> tuple[datetime | None, bool]:
    """(published_at, withdrawn) for a requested status; `current` is the episode's published_at.

    One rule for the form, the API and the CLI: "published" keeps an earlier
    publication date (so a re-publish does not jump to the top of the feed)
    unless a past date is given; "scheduled" needs a future date;
    "unpublished" takes down an episode that was published.
    """
    if publish_at is not None and (not isinstance(publish_at, datetime) or publish_at.tzinfo is None):
        raise ValidationError(_("publication date must be a date and time with a time zone offset"))
    if status == "draft":
        return None, False
    if status == "published":
        if publish_at is not None and publish_at > now:
            raise ValidationError(_("a publication date in the future needs the status 'scheduled'"))
        return publish_at or (current if current is not None and current <= now else now), False
    if status == "scheduled":
        if publish_at is None or publish_at <= now:
            raise ValidationError(_("a scheduled episode needs a publication date in the future"))
        return publish_at, False
    if status == "unpublished":
        if current is None or current > now:
            raise ValidationError(_("only a published episode can be unpublished; make it a draft instead"))
        return current, True
    raise ValidationError(_("status must be one of %(choices)s", choices=", ".join(PUBLICATION_STATES)))


@dataclass(frozen=True)
class EpisodeInput:
    """An episode's fields. Files left as None keep what the episode has, unless remove_* says otherwise."""

    title: str = ""
    slug: str | None = None
    summary: str = ""
    notes: str = ""
    published_at: datetime | None = None
    withdrawn: bool = False
    season: int | None = None
    number: int | None = None
    episode_type: str = "full"
    explicit: bool = False
    guid: str | None = None
    people: list[PersonInput] = field(default_factory=list)
    links: list[LinkInput] = field(default_factory=list)
    # None: the chapters a newly given audio file carries, else the episode's current ones.
    chapters: list[ChapterInfo] | None = None
    image: Path | None = None
    remove_image: bool = False
    transcript: Path | None = None
    remove_transcript: bool = False
    soundbites: list = field(default_factory=list)  # [[start, duration, title or None], ...] seconds
    # Other renditions of the audio; None keeps the episode's, a list makes them exactly these files.
    alternates: list[Path] | None = None

    def validated(self) -> EpisodeInput:
        title = require_text(self.title, _l("episode title"))
        if self.episode_type not in EPISODE_TYPES:
            raise ValidationError(_("episode type must be one of %(choices)s", choices=", ".join(EPISODE_TYPES)))
        if not isinstance(self.explicit, bool):
            raise ValidationError(_("explicit must be true or false"))
        if self.published_at is not None and (
            not isinstance(self.published_at, datetime) or self.published_at.tzinfo is None
        ):
            raise ValidationError(_("publication date must be a date and time with a time zone offset"))
        _at_most(self.people, MAX_PEOPLE, _l("people"))
        return EpisodeInput(
            title=title,
            slug=make_slug(self.slug, title, _l("episode slug")),
            summary=description(self.summary, _l("summary"), required=False),
            notes=require_text(self.notes, _l("show notes"), max_len=100_000, required=False),
            published_at=self.published_at,
            withdrawn=bool(self.withdrawn),
            season=optional_positive_int(self.season, _l("season")),
            number=optional_positive_int(self.number, _l("episode number")),
            episode_type=self.episode_type,
            explicit=self.explicit,
            guid=require_text(self.guid, _l("guid"), required=False) or None,
            people=list(self.people),
            links=list(self.links),
            chapters=self.chapters,
            image=self.image,
            remove_image=self.remove_image,
            transcript=self.transcript,
            remove_transcript=self.remove_transcript,
            soundbites=check_soundbites(self.soundbites),
            alternates=self.alternates,
        )


def check_soundbites(items: object) -> list[list]:
    """Soundbites as [start, duration, title or None], at most MAX_SOUNDBITES; that they fit the audio is
    checked on save."""
    if not isinstance(items, (list, tuple)):
        raise ValidationError(_("soundbites must be a list"))
    _at_most(items, MAX_SOUNDBITES, _l("soundbites"))
    result = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, (list, tuple)) or len(item) not in (2, 3):
            raise ValidationError(_("soundbite %(number)s: give start, duration and an optional title", number=i))
        start, duration, title = (list(item) + [None])[:3]
        for value, what in ((start, _l("start")), (duration, _l("duration"))):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValidationError(
                    _("soundbite %(number)s: %(what)s must be a number of seconds", number=i, what=what)
                )
        if duration <= 0 or duration > 300:
            raise ValidationError(
                _("soundbite %(number)s: duration must be more than 0 and at most 300 seconds", number=i)
            )
        title = require_text(title, _l("soundbite %(number)s title", number=i), max_len=128, required=False) or None
        result.append([float(start), float(duration), title])
    return result
