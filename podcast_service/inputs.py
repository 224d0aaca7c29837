"""What a producer gives us for a show or an episode, with the rules it must meet.

Every entry point (folder import, and later the admin form and the API)
builds these objects and calls the same service functions, so each rule is
written once, here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from slugify import slugify

from .categories import parse_category
from .errors import ValidationError
from .media import ChapterInfo
from .models import EPISODE_TYPES, SHOW_TYPES


def require_text(value: object, what: str, *, max_len: int = 255, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text")
    value = value.strip()
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
    ordered = sorted(chapters, key=lambda c: c.start)
    for c in ordered:
        require_text(c.title, "chapter title")
        if c.start < 0 or c.start >= duration:
            raise ValidationError(
                f"chapter {c.title!r} starts at {c.start:.3f} s, outside the audio (0 to {duration:.3f} s)"
            )
        if c.url:
            require_url(c.url, f"link of chapter {c.title!r}")
    return ordered


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

    def validated(self) -> ShowInput:
        title = require_text(self.title, "show title")
        if self.show_type not in SHOW_TYPES:
            raise ValidationError(f"show type must be one of {', '.join(SHOW_TYPES)}")
        if not isinstance(self.explicit, bool):
            raise ValidationError("explicit must be true or false")
        if not self.categories:
            raise ValidationError("a show needs at least one category from Apple's list")
        return ShowInput(
            slug=make_slug(self.slug, title, "show slug"),
            title=title,
            description=require_text(self.description, "show description", max_len=4000),
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
        )


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
            summary=require_text(self.summary, "summary", max_len=4000, required=False),
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
        )
