"""Moving a podcast here from another host: its RSS feed read, its media fetched, its guids kept.

feedparser reads the feed (it copes with the malformed feeds real hosts
serve). Each episode is downloaded into the upload folder under the upload
size limit and goes through the same save_episode as an upload, keeping the
old guid and publication date, so listeners' apps see the same episodes.
An episode whose guid the show already has is skipped: re-running the import
fetches only what is new.
"""

from __future__ import annotations

import calendar
import logging
import tempfile
import urllib.error
import urllib.request
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
from ..errors import PodcastServiceError, ValidationError
from ..extensions import db
from ..inputs import EpisodeInput, ShowInput, make_slug
from ..models import Episode, Show

log = logging.getLogger(__name__)

TIMEOUT = 60
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
USER_AGENT = "podcast-service feed import"


@dataclass(frozen=True)
class ImportedItem:
    guid: str
    title: str
    outcome: str  # "imported", "present" or "failed"
    message: str = ""


def _is_url(ref: str) -> bool:
    return urlsplit(ref).scheme in ("http", "https")


@contextmanager
def _fetch(ref: str, base: str, limit: int) -> Iterator[Path]:
    """Download `ref` (resolved against `base`) into a temporary file, refusing more than `limit` bytes."""
    target = urljoin(base, ref) if _is_url(base) else ref
    folder: Path = current_app.config["PODCAST"].upload_temp_path
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix="import-") as out:
        try:
            if _is_url(target):
                request = urllib.request.Request(target, headers={"User-Agent": USER_AGENT})
                source = urllib.request.urlopen(request, timeout=TIMEOUT)
            else:
                path = Path(target) if Path(target).is_absolute() else Path(base).parent / target
                source = path.open("rb")
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise ValidationError(f"cannot fetch {target}: {getattr(e, 'reason', e)}") from None
        with source:
            copied = 0
            while chunk := source.read(1024 * 1024):
                copied += len(chunk)
                if copied > limit:
                    raise ValidationError(f"{target} is larger than the upload limit of {limit // 1048576} MB")
                out.write(chunk)
        out.flush()
        yield Path(out.name)


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
    limit = current_app.config["PODCAST"].max_upload_bytes
    with _fetch(source, source, limit) as path:
        raw = path.read_bytes()
    parsed = feedparser.parse(raw)
    if not parsed.feed.get("title"):
        raise ValidationError(f"{source} is not an RSS feed with a title")
    return Feed(source, parsed.feed, parsed.entries, *_read_raw(raw))


def import_show(feed: Feed, *, slug: str | None = None, categories: list[str] | None = None) -> Show:
    """Create or update the show the feed describes (its cover art too, when Apple would accept it)."""
    channel, source, explicit = feed.channel, feed.source, feed.channel_explicit
    owner = channel.get("publisher_detail") or {}
    data = ShowInput(
        slug=make_slug(slug, channel.get("title", ""), "show slug"),
        title=channel.get("title", ""),
        description=channel.get("summary") or channel.get("subtitle") or channel.get("title", ""),
        language=(channel.get("language") or "en")[:20],
        author=channel.get("author") or owner.get("name") or channel.get("title", ""),
        owner_name=owner.get("name") or channel.get("author") or "",
        owner_email=owner.get("email") or "",
        copyright=channel.get("rights") or None,
        website_url=channel.get("link") if _is_url(channel.get("link") or "") else None,
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
            with _fetch(image_url, source, current_app.config["PODCAST"].max_upload_bytes) as image:
                return save_show(data, image=image)
        except ValidationError as e:
            db.session.rollback()
            log.warning("cover art of %s not imported: %s", source, e)
    return save_show(data)


def import_episodes(show: Show, feed: Feed) -> Iterator[ImportedItem]:
    """Each entry of the feed, imported unless the show already has its guid; oldest first."""
    entries, source, explicit = feed.entries, feed.source, feed.item_explicit
    known = set(db.session.scalars(select(Episode.guid).where(Episode.show_id == show.id)))
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
            slug=_free_slug(show, title),
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
            with _fetch(audio, source, limit) as path:
                save_episode(show, data, path, audio_name=Path(urlsplit(audio).path).name)
        except PodcastServiceError as e:
            db.session.rollback()
            yield ImportedItem(guid, title, "failed", str(e))
            continue
        known.add(guid)
        yield ImportedItem(guid, title, "imported")


def _free_slug(show: Show, title: str) -> str:
    """A slug from the title, numbered when the show already uses it (old feeds repeat titles)."""
    base = make_slug(None, title or "episode", "episode slug")
    slug, n = base, 1
    while db.session.scalar(select(Episode.id).where(Episode.show_id == show.id, Episode.slug == slug)):
        n += 1
        slug = f"{base[:95]}-{n}"
    return slug

