"""Moving a podcast here from another host: its RSS feed read, its media fetched, its guids kept.

feedparser reads the feed (it copes with the malformed feeds real hosts
serve). Each episode is downloaded into the upload folder under the upload
size limit and goes through the same save_episode as an upload, keeping the
old guid and publication date, so listeners' apps see the same episodes.
An episode whose guid the show already has is skipped: re-running the import
fetches only what is new, and leaves the show's settings as the producer set
them. Every URL the feed names is fetched through fetcher.py.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from flask import current_app
from lxml import etree
from sqlalchemy import select

from ..categories import APPLE_CATEGORIES, format_category
from ..episodes import save_episode, save_show
from ..errors import Conflict, PodcastServiceError, ValidationError
from ..extensions import db
from ..inputs import EpisodeInput, ShowInput, make_slug
from ..models import Episode, Show
from . import fetcher
from .fetcher import is_url

log = logging.getLogger(__name__)

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
# What one fetch may take: a feed of 10,000 episodes with long notes is some tens of MB.
FEED_MAX_BYTES = 64 * 1024 * 1024
FEED_SECONDS = 120
IMAGE_MAX_BYTES = 16 * 1024 * 1024
IMAGE_SECONDS = 60
# An enclosure may be as large as an upload; four hours is 8 GB at about 0.5 MB/s.
AUDIO_SECONDS = 4 * 3600


@dataclass(frozen=True)
class ImportedItem:
    guid: str
    title: str
    outcome: str  # "imported", "present" or "failed"
    message: str = ""


@contextmanager
def _fetch(ref: str, base: str, limit: int, seconds: float) -> Iterator[Path]:
    """`ref` (resolved against `base`) in a temporary file, through the guarded fetcher.

    A feed read from a URL refers only to URLs; a feed saved to a file (the
    operator's own) may also name files beside it.
    """
    folder: Path = current_app.config["PODCAST"].upload_temp_path
    if is_url(base) or is_url(ref):
        with fetcher.fetch(urljoin(base, ref) if is_url(base) else ref, folder, limit=limit,
                           seconds=seconds) as path:
            yield path
        return
    path = Path(ref) if Path(ref).is_absolute() else Path(base).parent / ref
    with fetcher.copy_local(path, folder, limit=limit) as copied:
        yield copied


def _categories(tags: list[dict]) -> list[str]:
    """Apple categories from feedparser's flat list of terms (a subcategory follows its parent)."""
    found: list[str] = []
    parent = None
    for term in (t.get("term") for t in tags or []):
        if term in APPLE_CATEGORIES:
            parent = term
            found.append(term)
        elif parent is not None and term in APPLE_CATEGORIES[parent] and found[-1] == parent:
            found[-1] = format_category([parent, term])
    return found


# The namespace's URI, and the GitHub one older feeds declare.
PODCAST_NAMESPACES = ("https://podcastindex.org/namespace/1.0",
                      "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md")


def _read_raw(raw: bytes) -> tuple[bool, dict[str, bool], str | None]:
    """What feedparser misreads or drops: itunes:explicit of the channel and of each item (by guid),
    and the show's podcast:guid."""
    def flag(node: Any) -> bool:
        return (node.findtext(f"{{{ITUNES}}}explicit") or "").strip().lower() in ("true", "yes", "explicit")

    try:
        root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True, recover=True))
    except etree.XMLSyntaxError:
        return False, {}, None
    channel = root.find("channel") if root is not None else None
    if channel is None:
        return False, {}, None
    guid = next((channel.findtext(f"{{{ns}}}guid") for ns in PODCAST_NAMESPACES
                 if channel.findtext(f"{{{ns}}}guid")), None)
    items = {(i.findtext("guid") or "").strip(): flag(i) for i in channel.iter("item")}
    return flag(channel), items, guid.strip().lower() if guid else None


def _published(entry: dict) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.strip().isdigit() and int(value) > 0 else None


@dataclass(frozen=True)
class Feed:
    source: str  # URL or file; enclosures are resolved against it
    channel: dict
    entries: list[dict]
    channel_explicit: bool
    item_explicit: dict[str, bool]
    podcast_guid: str | None


def read_feed(source: str) -> Feed:
    """The feed's channel and entries, from a URL or a file."""
    if not is_url(source):
        source = str(Path(source).resolve())
    with _fetch(source, source, FEED_MAX_BYTES, FEED_SECONDS) as path:
        raw = path.read_bytes()
    parsed = feedparser.parse(raw)
    if not parsed.feed.get("title"):
        raise ValidationError(f"{source} is not an RSS feed with a title")
    return Feed(source, parsed.feed, parsed.entries, *_read_raw(raw))


def _show_from(feed: Feed) -> Show | None:
    """The show an earlier import made from this feed: by its address, or by its podcast:guid."""
    shows = select(Show).where(Show.import_source.is_not(None))
    show = db.session.scalar(shows.where(Show.import_source == feed.source))
    if show is None and feed.podcast_guid:
        show = db.session.scalar(shows.where(Show.podcast_guid == feed.podcast_guid))
    return show


def import_show(feed: Feed, *, slug: str | None = None, categories: list[str] | None = None,
                into_existing: bool = False) -> Show:
    """The show to import the feed's episodes into.

    The first import creates it (with its cover art, when Apple would accept
    it) and records where it came from. A later import of the same feed
    finds that show and changes nothing in it: whatever the producer has set
    since (privacy, block, people, funding...) stays. An import never writes
    into a show it did not create from this feed, unless `into_existing` asks
    for exactly that; even then the show's settings are left alone.
    """
    earlier = _show_from(feed)
    if earlier is not None:
        if slug and slug != earlier.slug:
            raise Conflict(f"this feed was imported before, as the show {earlier.slug!r}; run the import "
                           f"with --slug {earlier.slug} (or none) to fetch its new episodes")
        return earlier
    channel, source, explicit = feed.channel, feed.source, feed.channel_explicit
    slug = make_slug(slug, channel.get("title", ""), "show slug")
    existing = db.session.scalar(select(Show).where(Show.slug == slug))
    if existing is not None:
        if not into_existing:
            raise Conflict(f"there is already a show {slug!r}, not imported from this feed; choose another "
                           "--slug, or pass --into-existing to add this feed's episodes to it")
        if existing.import_source is None:
            existing.import_source = source
            db.session.commit()
        return existing
    owner = channel.get("publisher_detail") or {}
    data = ShowInput(
        slug=slug,
        title=channel.get("title", ""),
        description=channel.get("summary") or channel.get("subtitle") or channel.get("title", ""),
        language=(channel.get("language") or "en")[:20],
        author=channel.get("author") or owner.get("name") or channel.get("title", ""),
        owner_name=owner.get("name") or channel.get("author") or "",
        owner_email=owner.get("email") or "",
        copyright=channel.get("rights") or None,
        website_url=channel.get("link") if is_url(channel.get("link") or "") else None,
        categories=categories or _categories(channel.get("tags", [])),
        explicit=explicit,
        show_type=channel.get("itunes_type") if channel.get("itunes_type") in ("episodic", "serial") else "episodic",
        podcast_guid=feed.podcast_guid,
    )
    if not data.categories:
        raise ValidationError("the feed names no category from Apple's list; give one with --category")
    image_url = (channel.get("image") or {}).get("href")
    if image_url:
        try:
            with _fetch(image_url, source, IMAGE_MAX_BYTES, IMAGE_SECONDS) as image:
                return save_show(data, image=image, new=True, import_source=source)
        except ValidationError as e:
            if isinstance(e, Conflict):
                raise
            db.session.rollback()
            log.warning("cover art of %s not imported: %s", source, e)
    return save_show(data, new=True, import_source=source)


def import_episodes(show: Show, feed: Feed) -> Iterator[ImportedItem]:
    """Each entry of the feed, imported unless the show already has its guid; oldest first."""
    entries, source, explicit = feed.entries, feed.source, feed.item_explicit
    known = set(db.session.scalars(select(Episode.guid).where(Episode.show_id == show.id)))
    slugs = SlugAllocator(set(db.session.scalars(select(Episode.slug).where(Episode.show_id == show.id))))
    limit = current_app.config["PODCAST"].max_upload_bytes
    for entry in sorted(entries, key=lambda e: _published(e) or datetime.min.replace(tzinfo=UTC)):
        guid = (entry.get("id") or "").strip() or next((e.get("href") for e in entry.get("enclosures", [])), "")
        title = entry.get("title") or guid
        if guid in known:
            yield ImportedItem(guid, title, "present")
            continue
        audio = next((e.get("href") for e in entry.get("enclosures", []) if e.get("href")), None)
        if not audio:
            yield ImportedItem(guid, title, "failed", "no enclosure")
            continue
        content = entry.get("content") or []
        data = EpisodeInput(
            title=title,
            slug=slugs.propose(title),
            summary=(entry.get("summary") or "")[:4000],
            notes=content[0].get("value", "") if content else "",
            published_at=_published(entry) or datetime.now(UTC),
            season=_number(entry.get("itunes_season")),
            number=_number(entry.get("itunes_episode")),
            episode_type=entry.get("itunes_episodetype") if entry.get("itunes_episodetype") in (
                "full", "trailer", "bonus") else "full",
            explicit=explicit.get(guid, False),
            guid=guid,
        )
        try:
            with _fetch(audio, source, limit, AUDIO_SECONDS) as path:
                save_episode(show, data, path, audio_name=Path(urlsplit(audio).path).name)
        except PodcastServiceError as e:
            db.session.rollback()
            yield ImportedItem(guid, title, "failed", str(e))
            continue
        known.add(guid)
        slugs.taken.add(data.slug)
        yield ImportedItem(guid, title, "imported")


class SlugAllocator:
    """Slugs from titles, numbered when taken (old feeds repeat titles), without a query per try.

    The next number for each title is remembered, so 400 episodes called
    "Bonus" cost 400 steps, not 80,000 look-ups.
    """

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self._next: dict[str, int] = {}

    def propose(self, title: str) -> str:
        base = make_slug(None, title or "episode", "episode slug")
        n = self._next.get(base, 1)
        slug = base if n == 1 else f"{base[:95]}-{n}"
        while slug in self.taken:
            n += 1
            slug = f"{base[:95]}-{n}"
        self._next[base] = n
        return slug
