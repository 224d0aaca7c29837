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
from urllib.parse import urlsplit

from slugify import slugify

from .categories import parse_category
from .errors import ValidationError
from .xmltext import clean
from .audio.probe import ChapterInfo
from .models import EPISODE_TYPES, MEDIUMS, SHOW_TYPES

# Apple's limit for a show's or an episode's description, in bytes of UTF-8.
DESCRIPTION_BYTES = 4000


def require_text(value: object, what: str, *, max_len: int = 255, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text")
    value = clean(value).strip()
    if required and not value:
        raise ValidationError(f"{what} is required")
    if len(value) > max_len:
        raise ValidationError(f"{what} is longer than {max_len} characters")
    return value


def require_url(value: object, what: str) -> str:
    url = require_text(value, what, max_len=1000)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"{what} must be an absolute http(s) URL, not {url!r}")
    return url


def optional_url(value: object, what: str) -> str | None:
    return require_url(value, what) if value else None


def description(value: object, what: str, *, required: bool) -> str:
    """Plain text within Apple's 4,000 bytes (UTF-8, so accented text holds fewer characters)."""
    text = require_text(value, what, max_len=DESCRIPTION_BYTES, required=required)
    size = len(text.encode("utf-8"))
    if size > DESCRIPTION_BYTES:
        raise ValidationError(f"{what} is {size} bytes long; Apple Podcasts allows {DESCRIPTION_BYTES}")
    return text


def _pairs(value: object, what: str, first: str, second: str, *, first_url: bool = False,
           second_url: bool = False, second_required: bool = True) -> list[list[str | None]]:
    """[[a, b], ...] lists of the show's Podcasting 2.0 fields, each part checked."""
    if not isinstance(value, (list, tuple)):
        raise ValidationError(f"{what} must be a list")
    result = []
    for item in value:
        if not isinstance(item, (list, tuple)) or not 1 <= len(item) <= 2:
            raise ValidationError(f"{what}: each entry is {first} | {second}")
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
        raise ValidationError(f"{what} {text!r} is not valid; for example {example}")
    return text


def make_slug(value: object, fallback: str, what: str = "slug") -> str:
    """An ASCII slug, safe in URLs and file names; derived from the title when not given."""
    text = require_text(value, what, max_len=150, required=False) or fallback
    slug = slugify(text, max_length=100, word_boundary=True)
    if not slug:
        raise ValidationError(f"{what}: cannot make a URL slug from {text!r}")
    if value and slug != value:
        raise ValidationError(f"{what} {value!r} must be lowercase ASCII words joined by '-', e.g. {slug!r}")
    return slug


def optional_positive_int(value: object, what: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{what} must be a whole number of 1 or more")
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
        object.__setattr__(self, "name", require_text(self.name, "person name"))
        object.__setattr__(self, "role", require_text(self.role, "person role", max_len=50).lower())
        object.__setattr__(self, "group", require_text(self.group, "person group", max_len=50).lower())
        object.__setattr__(self, "title", require_text(self.title, "person title", required=False) or None)
        object.__setattr__(self, "href", optional_url(self.href, f"link of {self.name}"))
        object.__setattr__(self, "img", optional_url(self.img, f"image of {self.name}"))


@dataclass(frozen=True)
class LinkInput:
    title: str
    url: str
    rel: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", require_text(self.title, "link title"))
        object.__setattr__(self, "url", require_url(self.url, f"link {self.title!r}"))
        object.__setattr__(self, "rel", require_text(self.rel, "link rel", max_len=30, required=False) or None)


def check_chapters(chapters: list[ChapterInfo], duration: float) -> list[ChapterInfo]:
    """Chapters sorted by start, each starting inside the audio."""
    ordered = sorted((replace(c, title=require_text(c.title, "chapter title")) for c in chapters),
                     key=lambda c: c.start)
    for c in ordered:
        if c.start < 0 or c.start >= duration:
            raise ValidationError(
                f"chapter {c.title!r} starts at {c.start:.3f} s, outside the audio (0 to {duration:.3f} s)"
            )
        if c.url:
            require_url(c.url, f"link of chapter {c.title!r}")
    return ordered


# Apps and directories a show page offers subscribe buttons for, with the producer's link to the show there.
SUBSCRIBE_APPS = {"apple": "Apple Podcasts", "spotify": "Spotify", "pocketcasts": "Pocket Casts",
                  "overcast": "Overcast", "youtube": "YouTube Music", "amazon": "Amazon Music", "deezer": "Deezer",
                  "castbox": "Castbox", "podcastaddict": "Podcast Addict", "podcastindex": "Podcast Index"}
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
    categories: list[str] = field(default_factory=list)
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
        title = require_text(self.title, "show title")
        if self.show_type not in SHOW_TYPES:
            raise ValidationError(f"show type must be one of {', '.join(SHOW_TYPES)}")
        if not isinstance(self.explicit, bool):
            raise ValidationError("explicit must be true or false")
        if not self.categories:
            raise ValidationError("a show needs at least one category from Apple's list")
        for name in ("explicit", "block", "complete", "private", "locked", "normalize_masters",
                     "normalize_compressed"):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError(f"{name} must be true or false")
        if not isinstance(self.subscribe_links, dict):
            raise ValidationError("subscribe links must map apps to the show's URL there")
        unknown = sorted(set(self.subscribe_links) - set(SUBSCRIBE_APPS))
        if unknown:
            raise ValidationError(f"subscribe links: {unknown[0]!r} is not one of {', '.join(SUBSCRIBE_APPS)}")
        links = {app: require_url(url, f"{SUBSCRIBE_APPS[app]} link") for app, url in self.subscribe_links.items()
                 if url}
        if self.audio_bitrate not in MP3_BITRATES:
            raise ValidationError(f"audio bitrate must be one of {', '.join(map(str, MP3_BITRATES))} (kb/s)")
        if self.audio_channels not in (1, 2):
            raise ValidationError("audio channels must be 1 (mono) or 2 (stereo)")
        if self.medium not in MEDIUMS:
            raise ValidationError(f"medium must be one of {', '.join(MEDIUMS)}")
        if not isinstance(self.season_names, dict):
            raise ValidationError("season names must map season numbers to names")
        seasons = {}
        for number, name in self.season_names.items():
            if not str(number).isdigit() or int(number) < 1:
                raise ValidationError(f"season names: {number!r} is not a season number")
            seasons[str(int(number))] = require_text(name, f"name of season {number}", max_len=128)
        frequency = _matching(self.update_frequency, "update frequency", _RRULE, "FREQ=MONTHLY")
        frequency_text = require_text(self.update_frequency_text, "update frequency text", max_len=128,
                                      required=bool(frequency)) or None
        podroll = _pairs(self.podroll, "podroll", "feed guid", "feed URL", second_url=True,
                         second_required=False)
        for feed_guid, _ in podroll:
            if not _UUID.match(feed_guid):
                raise ValidationError(f"podroll: {feed_guid!r} is not a podcast:guid (a UUID)")
        return ShowInput(
            slug=make_slug(self.slug, title, "show slug"),
            title=title,
            description=description(self.description, "show description", required=True),
            language=require_text(self.language, "language", max_len=20),
            author=require_text(self.author, "author"),
            owner_name=require_text(self.owner_name, "owner name"),
            owner_email=require_text(self.owner_email, "owner email"),
            copyright=require_text(self.copyright, "copyright", required=False) or None,
            website_url=optional_url(self.website_url, "website"),
            categories=[parse_category(c) for c in self.categories],
            explicit=self.explicit,
            show_type=self.show_type,
            people=list(self.people),
            block=self.block,
            complete=self.complete,
            private=self.private,
            new_feed_url=optional_url(self.new_feed_url, "new feed URL"),
            locked=self.locked,
            medium=self.medium,
            funding=_pairs(self.funding, "funding", "URL", "text", first_url=True),
            location_name=require_text(self.location_name, "location name", max_len=128, required=False) or None,
            location_geo=_matching(self.location_geo, "location geo URI", _GEO, "geo:50.8466,4.3528"),
            location_osm=_matching(self.location_osm, "location OpenStreetMap id", _OSM, "R54094"),
            license=require_text(self.license, "license", max_len=128, required=False) or None,
            license_url=optional_url(self.license_url, "license URL"),
            update_frequency=frequency,
            update_frequency_text=frequency_text,
            txt=_pairs(self.txt, "txt", "text", "purpose", second_required=False),
            podroll=podroll,
            season_names=seasons,
            podcast_guid=_matching(self.podcast_guid, "podcast guid", _UUID, "ead4c236-bf58-58c6-a2c6-a6b28d128cb6"),
            audio_bitrate=self.audio_bitrate,
            audio_channels=self.audio_channels,
            normalize_masters=self.normalize_masters,
            normalize_compressed=self.normalize_compressed,
            subscribe_links=links,
            measurement_prefix=_measurement_prefix(self.measurement_prefix),
        )


def _measurement_prefix(value: object) -> str:
    """An https URL ending in '/', such as https://op3.dev/e/; empty for none."""
    text = require_text(value, "measurement prefix", max_len=200, required=False) or ""
    if text and (not text.startswith("https://") or not text.endswith("/") or not require_url(text, "measurement prefix")):
        raise ValidationError("measurement prefix must be an https URL ending in '/', such as https://op3.dev/e/")
    return text


PUBLICATION_STATES = ("draft", "scheduled", "published", "unpublished")


def publication(status: object, publish_at: datetime | None, current: datetime | None,
                now: datetime) -> tuple[datetime | None, bool]:
    """(published_at, withdrawn) for a requested status; `current` is the episode's published_at.

    One rule for the form, the API and the CLI: "published" keeps an earlier
    publication date (so a re-publish does not jump to the top of the feed)
    unless a past date is given; "scheduled" needs a future date;
    "unpublished" takes down an episode that was published.
    """
    if publish_at is not None and (not isinstance(publish_at, datetime) or publish_at.tzinfo is None):
        raise ValidationError("publication date must be a date and time with a time zone offset")
    if status == "draft":
        return None, False
    if status == "published":
        if publish_at is not None and publish_at > now:
            raise ValidationError("a publication date in the future needs the status 'scheduled'")
        return publish_at or (current if current is not None and current <= now else now), False
    if status == "scheduled":
        if publish_at is None or publish_at <= now:
            raise ValidationError("a scheduled episode needs a publication date in the future")
        return publish_at, False
    if status == "unpublished":
        if current is None or current > now:
            raise ValidationError("only a published episode can be unpublished; make it a draft instead")
        return current, True
    raise ValidationError(f"status must be one of {', '.join(PUBLICATION_STATES)}")


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
        title = require_text(self.title, "episode title")
        if self.episode_type not in EPISODE_TYPES:
            raise ValidationError(f"episode type must be one of {', '.join(EPISODE_TYPES)}")
        if not isinstance(self.explicit, bool):
            raise ValidationError("explicit must be true or false")
        if self.published_at is not None and (
            not isinstance(self.published_at, datetime) or self.published_at.tzinfo is None
        ):
            raise ValidationError("publication date must be a date and time with a time zone offset")
        return EpisodeInput(
            title=title,
            slug=make_slug(self.slug, title, "episode slug"),
            summary=description(self.summary, "summary", required=False),
            notes=require_text(self.notes, "show notes", max_len=100_000, required=False),
            published_at=self.published_at,
            withdrawn=bool(self.withdrawn),
            season=optional_positive_int(self.season, "season"),
            number=optional_positive_int(self.number, "episode number"),
            episode_type=self.episode_type,
            explicit=self.explicit,
            guid=require_text(self.guid, "guid", required=False) or None,
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
    """Soundbites as [start, duration, title or None]; that they fit the audio is checked on save."""
    if not isinstance(items, (list, tuple)):
        raise ValidationError("soundbites must be a list")
    result = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, (list, tuple)) or len(item) not in (2, 3):
            raise ValidationError(f"soundbite {i}: give start, duration and an optional title")
        start, duration, title = (list(item) + [None])[:3]
        for value, what in ((start, "start"), (duration, "duration")):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValidationError(f"soundbite {i}: {what} must be a number of seconds")
        if duration <= 0 or duration > 300:
            raise ValidationError(f"soundbite {i}: duration must be more than 0 and at most 300 seconds")
        title = require_text(title, f"soundbite {i} title", max_len=128, required=False) or None
        result.append([float(start), float(duration), title])
    return result
