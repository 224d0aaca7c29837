"""Moving a podcast here from another host: its RSS feed read, its media fetched, its guids kept.

The feed is split as it is read (items.py): the channel stays in memory,
the items wait on disk, so a feed of 10,000 episodes takes no more memory
than one of ten; feedparser reads the channel and each item (it copes with
the malformed markup real hosts serve). Each episode is downloaded into the upload folder under the upload
size limit and goes through the same save_episode as an upload, keeping the
old guid and publication date, so listeners' apps see the same episodes.
An episode whose guid the show already has is skipped: re-running the import
fetches only what is new, and leaves the show's settings as the producer set
them. Every URL the feed names is fetched through fetcher.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree
from sqlalchemy import select

from ..catalogue import chapters as chapter_json
from ..catalogue import images
from ..catalogue.categories import APPLE_CATEGORIES, RETIRED_CATEGORIES, format_category
from ..catalogue.inputs import EpisodeInput, ShowInput, make_slug
from ..catalogue.service import add_alternate, media_change, podcast_guid, save_episode, save_show
from ..core import urls
from ..core.errors import Conflict, PodcastServiceError, ValidationError
from ..core.extensions import db
from ..core.settings import current_settings
from ..models import Episode, Show
from . import fetcher, items, podcasting
from .fetcher import is_url
from .podcasting import ITUNES, PODCAST_NAMESPACES
from .text import cut_to_bytes, notes_of, says_more_than_text, text_of

log = logging.getLogger(__name__)

# What one fetch may take: a feed of 10,000 episodes with long notes is some tens of MB.
FEED_MAX_BYTES = 64 * 1024 * 1024
FEED_SECONDS = 120
IMAGE_MAX_BYTES = 16 * 1024 * 1024
IMAGE_SECONDS = 60
# Chapters and transcripts of an episode: text, a few MB at most.
SIDE_FILE_MAX_BYTES = 16 * 1024 * 1024
# An enclosure may be as large as an upload; four hours is 8 GB at about 0.5 MB/s.
AUDIO_SECONDS = 4 * 3600
# Apple's limit for a description, in bytes (a Cyrillic character is two).
SUMMARY_MAX_BYTES = 4000


@dataclass(frozen=True)
class ImportedItem:
    guid: str
    title: str
    outcome: str  # "imported", "present" or "failed"
    message: str = ""
    size: int = 0  # bytes of audio fetched for it


def _one_of(value: object, allowed: tuple[str, ...], default: str) -> str:
    """`value` if it is one of the values a field allows, else the field's default."""
    return value if isinstance(value, str) and value in allowed else default


@contextmanager
def _fetch(ref: str, base: str, limit: int, seconds: float) -> Iterator[Path]:
    """`ref` (resolved against `base`) in a temporary file, through the guarded fetcher.

    A feed read from a URL refers only to URLs; a feed saved to a file (the
    operator's own) may also name files beside it.
    """
    folder: Path = current_settings().upload_temp_path
    if is_url(base) or is_url(ref):
        with fetcher.fetch(urljoin(base, ref) if is_url(base) else ref, folder, limit=limit, seconds=seconds) as path:
            yield path
        return
    path = Path(ref) if Path(ref).is_absolute() else Path(base).parent / ref
    with fetcher.copy_local(path, folder, limit=limit) as copied:
        yield copied


def _categories(tags: list[dict]) -> tuple[list[str], list[str]]:
    """Apple categories from feedparser's flat list of terms (a subcategory follows its parent), and a note
    for each retired category mapped to its successor (Apple's 2019 revision; older feeds still use them)."""
    found: list[str] = []
    notes: list[str] = []
    parent = None  # the last top-level term, as the feed wrote it

    def retired(name: str) -> str:
        notes.append(f"category {name!r} is retired: imported as {RETIRED_CATEGORIES[name]!r}")
        return RETIRED_CATEGORIES[name]

    for term in (t.get("term") for t in tags or []):
        pair = f"{parent} > {term}"
        if term in APPLE_CATEGORIES or term in RETIRED_CATEGORIES:
            parent = term
            found.append(term if term in APPLE_CATEGORIES else retired(term))
        elif parent is not None and found and pair in RETIRED_CATEGORIES:
            found[-1] = retired(pair)
        elif parent in APPLE_CATEGORIES and found and found[-1] == parent and term in APPLE_CATEGORIES[parent]:
            found[-1] = format_category([parent, term])
    return list(dict.fromkeys(found)), notes


@dataclass(frozen=True)
class Channel:
    """What the service reads from the channel itself, where feedparser misreads or drops it.

    Only the channel's own children count: feedparser also takes the children
    of a `podcast:liveItem` for channel fields (its description became the
    show's), and gives the RSS `author` (an e-mail address) for itunes:author.
    """

    explicit: bool = False
    podcast_guid: str | None = None
    locked: bool | None = None  # podcast:locked; None when the feed does not say
    locked_owner: str | None = None  # its owner attribute: the e-mail that may move the feed
    author: str | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    description: str | None = None
    show_fields: dict[str, Any] = field(default_factory=dict)  # from podcast: tags (podcasting.py)


def _read_channel(root: Any) -> Channel:
    def text(node: Any, *paths: str) -> str | None:
        for path in paths:
            value = (node.findtext(path) or "").strip()
            if value:
                return value
        return None

    channel = root.find("channel") if root is not None else None
    if channel is None:
        return Channel()
    guid = next((text(channel, f"{{{ns}}}guid") for ns in PODCAST_NAMESPACES if text(channel, f"{{{ns}}}guid")), None)
    lock = next((node for ns in PODCAST_NAMESPACES if (node := channel.find(f"{{{ns}}}locked")) is not None), None)
    lock_value = (lock.text or "").strip().lower() if lock is not None else ""
    owner = channel.find(f"{{{ITUNES}}}owner")
    return Channel(
        explicit=items.explicit(channel),
        podcast_guid=guid.lower() if guid else None,
        locked={"yes": True, "no": False}.get(lock_value),
        locked_owner=(lock.get("owner") or "").strip() or None if lock is not None else None,
        author=text(channel, f"{{{ITUNES}}}author"),
        owner_name=text(owner, f"{{{ITUNES}}}name") if owner is not None else None,
        owner_email=text(owner, f"{{{ITUNES}}}email") if owner is not None else None,
        description=text(channel, f"{{{ITUNES}}}summary", "description"),
        show_fields=podcasting.show_fields(channel),
    )


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.strip().isdigit() and int(value) > 0 else None


@dataclass(frozen=True)
class Feed:
    source: str  # URL or file; enclosures are resolved against it
    channel: dict  # feedparser's reading of the channel (without its items)
    raw: Channel
    items: items.ItemSpool

    @property
    def podcast_guid(self) -> str | None:
        return self.raw.podcast_guid

    def proves(self, verify_code: str | None) -> bool:
        """Whether the channel carries <podcast:txt purpose="verify"> with this code."""
        texts = self.raw.show_fields.get("txt", [])
        return bool(verify_code) and any(text == verify_code and purpose == "verify" for text, purpose in texts)


@contextmanager
def open_feed(source: str) -> Iterator[Feed]:
    """The feed's channel, and its items spooled to disk, from a URL or a file (items.py)."""
    if not is_url(source):
        source = str(Path(source).resolve())
    with (
        _fetch(source, source, FEED_MAX_BYTES, FEED_SECONDS) as path,
        items.split(path, current_settings().upload_temp_path) as (root, spooled),
    ):
        channel = feedparser.parse(etree.tostring(root)).feed if root is not None else {}
        if not channel.get("title"):
            raise ValidationError(f"{source} is not an RSS feed with a title")
        yield Feed(source, channel, _read_channel(root), spooled)


# Whether the one importing may write into a show (the admin: only shows the producer edits); None: any.
Editable = Callable[[Show], bool] | None


def existing_show(feed: Feed, slug: str | None, may_edit: Editable = None) -> Show | None:
    """The show this feed would go into that exists already (made by an earlier import, or with the slug)."""
    earlier = imported_from(feed, may_edit)
    if earlier is not None:
        return earlier
    return db.session.scalar(
        select(Show).where(Show.slug == make_slug(slug, feed.channel.get("title", ""), "show slug"))
    )


def imported_from(feed: Feed, may_edit: Editable = None) -> Show | None:
    """The show an earlier import made from this feed, by its address or by its podcast:guid, among the shows
    the one importing may edit: another producer's show is never found, so it neither blocks nor is named."""
    shows = select(Show).where(Show.import_source.is_not(None)).order_by(Show.id)
    found = [*db.session.scalars(shows.where(Show.import_source == feed.source))]
    if feed.podcast_guid:
        found += db.session.scalars(shows.where(Show.podcast_guid == feed.podcast_guid))
    return next((show for show in found if may_edit is None or may_edit(show)), None)


class LockedFeed(Conflict):
    pass


def _refuse_locked(raw: Channel, verify_code: str | None) -> None:
    """The namespace asks a new host to refuse a locked feed unless its owner shows who they are."""
    owner = f", owner: {raw.locked_owner}" if raw.locked_owner else ""
    proof = (
        f'prove it is yours: add <podcast:txt purpose="verify">{verify_code}</podcast:txt> to its channel '
        "there, then start this import again"
        if verify_code
        else "or, as the operator, run the import again with --override-lock"
    )
    raise LockedFeed(
        f"the feed is locked against moving (podcast:locked yes{owner}): unlock it at the old host, {proof}"
    )


def _claim_guid(feed: Feed, proven: bool, show: Show | None = None) -> str | None:
    """The podcast:guid a show made (or `show`, found again) from this feed gets: the feed's, unless another
    show holds it and this import cannot prove the feed is its producer's. A proven import takes the guid
    from a show that holds it unproven; that show gets a guid of its own, from its feed URL."""
    guid = feed.podcast_guid
    if guid is None:
        return None
    holders = db.session.scalars(select(Show).where(Show.podcast_guid == guid, Show.id != (show.id if show else -1)))
    for holder in holders:
        if not proven or holder.guid_proven:
            return None
        holder.podcast_guid = podcast_guid(urls.feed_url(holder))
        holder.guid_proven = True
    return guid


def import_show(
    feed: Feed,
    *,
    slug: str | None = None,
    categories: list[str] | None = None,
    into_existing: bool = False,
    owner_email: str | None = None,
    override_lock: bool = False,
    verify_code: str | None = None,
    may_edit: Editable = None,
    notes: list[str] | None = None,
) -> Show:
    """The show to import the feed's episodes into.

    The first import creates it (with its cover art, when Apple would accept
    it) and records where it came from. A later import of the same feed
    finds that show and changes nothing in it: whatever the producer has set
    since (privacy, block, people, funding...) stays. An import never writes
    into a show it did not create from this feed, unless `into_existing` asks
    for exactly that; even then the show's settings are left alone.

    A locked feed is imported only with proof that it is the producer's (the
    feed carries `verify_code` as <podcast:txt purpose="verify">) or on the
    operator's word (`override_lock`, from the command line). Without proof,
    the feed's podcast:guid is taken only if no other show holds it, and
    gives way to a later import that proves it.
    """
    proven = override_lock or feed.proves(verify_code)
    earlier = imported_from(feed, may_edit)
    if earlier is not None:
        if slug and slug != earlier.slug:
            raise Conflict(
                f"this feed was imported before, as the show {earlier.slug!r}; run the import "
                f"with --slug {earlier.slug} (or none) to fetch its new episodes"
            )
        if proven and not earlier.guid_proven and (guid := _claim_guid(feed, proven, earlier)) is not None:
            earlier.podcast_guid, earlier.guid_proven = guid, True
            db.session.commit()
        return earlier
    channel, source, raw = feed.channel, feed.source, feed.raw
    notes = notes if notes is not None else []  # what the producer is told: categories mapped, art fitted...
    if raw.locked and not proven:
        _refuse_locked(raw, verify_code)
    slug = make_slug(slug, channel.get("title", ""), "show slug")
    existing = db.session.scalar(select(Show).where(Show.slug == slug))
    if existing is not None:
        if not into_existing:
            raise Conflict(
                f"there is already a show {slug!r}, not imported from this feed: choose another slug "
                "(on the command line, --into-existing adds this feed's episodes to it)"
            )
        if existing.import_source is None:
            existing.import_source = source
            db.session.commit()
        return existing
    title = channel.get("title", "")
    if not categories:
        categories, mapped = _categories(channel.get("tags", []))
        notes += mapped
    email = raw.owner_email or owner_email or raw.locked_owner
    if not email:
        raise ValidationError(
            "the feed names no owner e-mail (itunes:owner, podcast:locked owner): give the show's with --owner-email"
        )
    data = ShowInput(
        slug=slug,
        title=title,
        description=cut_to_bytes(text_of(raw.description or channel.get("subtitle") or title), SUMMARY_MAX_BYTES),
        language=(channel.get("language") or "en")[:20],
        author=raw.author or raw.owner_name or title,
        owner_name=raw.owner_name or raw.author or title,
        owner_email=email,
        copyright=channel.get("rights") or None,
        website_url=channel.get("link") if is_url(channel.get("link") or "") else None,
        categories=categories,
        explicit=raw.explicit,
        show_type=_one_of(channel.get("itunes_type"), ("episodic", "serial"), "episodic"),
        podcast_guid=_claim_guid(feed, proven),
        locked=raw.locked if raw.locked is not None else ShowInput.locked,
    )
    if feed.podcast_guid and not proven and verify_code:
        notes.append(
            f"the feed's podcast:guid stays this show's until a producer proves the feed is theirs: to prove it, "
            f'add <podcast:txt purpose="verify">{verify_code}</podcast:txt> to the feed and import it again'
        )
    if not data.categories:
        raise ValidationError("the feed names no category from Apple's list; give one with --category")
    data.validated()  # what is wrong with the show is said now, not blamed on its cover art
    show_fields = {**raw.show_fields, **({"season_names": feed.items.season_names} if feed.items.season_names else {})}
    if "txt" in show_fields:  # the proof was for this import, not for the show's feed here
        show_fields["txt"] = [t for t in show_fields["txt"] if t[0] != verify_code]
    try:
        replace(data, **show_fields).validated()
        data = replace(data, **show_fields)
    except ValidationError as e:  # a malformed podcast: tag costs those tags, not the move
        log.warning("%s: the feed's podcast: tags not imported: %s", source, e)
    image_url = (channel.get("image") or {}).get("href")
    if image_url:
        try:
            with _fetch(image_url, source, IMAGE_MAX_BYTES, IMAGE_SECONDS) as image, _apple_art(image, notes) as art:
                return save_show(data, image=art, new=True, import_source=source, guid_proven=proven)
        except ValidationError as e:
            if isinstance(e, Conflict):
                raise
            db.session.rollback()
            notes.append(f"cover art not imported: {e}")
    return save_show(data, new=True, import_source=source, guid_proven=proven)


@contextmanager
def _apple_art(image: Path, notes: list[str]) -> Iterator[Path]:
    """The image if Apple accepts it as cover art, else a fitted copy (square, 1400+ pixels), said in `notes`."""
    try:
        images.inspect(image, artwork=True)
    except ValidationError:
        fitted, what = images.fit_artwork(image, image.with_name(image.name + "-fitted.jpg"))
        notes.append(what)
        try:
            yield fitted
        finally:
            fitted.unlink(missing_ok=True)
        return
    yield image


def discard_show(show: Show) -> None:
    """Remove a show this import has just made, when none of its episodes could be brought over: a failed
    import leaves nothing behind (its cover art included)."""
    image = show.image
    with media_change() as change:
        db.session.delete(show)
        db.session.flush()  # the show's row goes first: it references its art
        change.retire(image)


def import_episodes(show: Show, feed: Feed) -> Iterator[ImportedItem]:
    """Each item of the feed, imported unless the show already has its guid; oldest first."""
    source = feed.source
    known = set(db.session.scalars(select(Episode.guid).where(Episode.show_id == show.id)))
    slugs = SlugAllocator(set(db.session.scalars(select(Episode.slug).where(Episode.show_id == show.id))))
    limit = current_settings().max_upload_bytes
    for item in feed.items:
        entry, extras = item.entry, item.extras
        guid = (entry.get("id") or "").strip() or next((e.get("href") for e in entry.get("enclosures", [])), "")
        title = entry.get("title") or guid
        if guid in known:
            yield ImportedItem(guid, title, "present")
            continue
        audio = next((e.get("href") for e in entry.get("enclosures", []) if e.get("href")), None)
        if not audio:
            yield ImportedItem(guid, title, "failed", "no enclosure")
            continue
        # feedparser lists content:encoded (HTML) here, and also an itunes:summary beside a description (text).
        content = [c for c in entry.get("content") or [] if c.get("type") != "text/plain"]
        # content:encoded holds the show notes where a feed has it; else a description with more than a
        # sentence's plain text in it (markup, line breaks, links) is both summary and notes.
        notes = (content[0].get("value") or "") if content else ""
        description = entry.get("summary") or ""
        if not notes and says_more_than_text(description):
            notes = description
        data = EpisodeInput(
            title=title,
            slug=slugs.propose(title),
            summary=cut_to_bytes(text_of(description or notes), SUMMARY_MAX_BYTES),
            notes=notes_of(notes),
            published_at=items.published(entry) or datetime.now(UTC),
            season=_number(entry.get("itunes_season")),
            number=_number(entry.get("itunes_episode")),
            episode_type=_one_of(entry.get("itunes_episodetype"), ("full", "trailer", "bonus"), "full"),
            explicit=item.explicit,
            guid=guid,
        )
        data = replace(
            data,
            people=extras.people,
            soundbites=extras.soundbites,
            season=data.season or extras.season,
            number=data.number or extras.number,
        )
        try:
            with ExitStack() as files:
                path = files.enter_context(_fetch(audio, source, limit, AUDIO_SECONDS))
                size = path.stat().st_size
                full, missed = _with_files(files, data, extras, source)
                try:
                    episode = save_episode(show, full, path, audio_name=Path(urlsplit(audio).path).name)
                except ValidationError as e:
                    if full == data:
                        raise
                    # The audio is fine; what came with it (art, chapters, transcript...) is not: without it.
                    db.session.rollback()
                    episode = save_episode(
                        show, replace(data, people=[], soundbites=[]), path, audio_name=Path(urlsplit(audio).path).name
                    )
                    missed.append(f"art, chapters, transcript, people and soundbites left out: {e}")
            missed += _alternates(episode, extras.alternates, audio, source, limit)
        except PodcastServiceError as e:
            db.session.rollback()
            yield ImportedItem(guid, title, "failed", str(e))
            continue
        known.add(guid)
        slugs.taken.add(data.slug or "")
        yield ImportedItem(guid, title, "imported", "; ".join(missed), size)


def _alternates(episode: Episode, sources: list[str], enclosure: str, source: str, limit: int) -> list[str]:
    """Each podcast:alternateEnclosure fetched and added as a rendition; what could not be is named."""
    missed = []
    for uri in sources:
        if urljoin(source, uri) == urljoin(source, enclosure):
            continue  # the enclosure itself, listed among the alternates as the namespace allows
        try:
            with _fetch(uri, source, limit, AUDIO_SECONDS) as path:
                add_alternate(episode, path, Path(urlsplit(uri).path).name)
        except PodcastServiceError as e:
            db.session.rollback()
            missed.append(f"alternate enclosure {uri}: {e}")
    return missed


def _with_files(
    files: ExitStack, data: EpisodeInput, extras: podcasting.ItemExtras, source: str
) -> tuple[EpisodeInput, list[str]]:
    """`data` with the item's art, chapters and transcript fetched; each that cannot be is named, not fatal."""
    changes: dict[str, Any] = {}
    missed: list[str] = []
    if extras.image_url:
        try:
            changes["image"] = files.enter_context(_fetch(extras.image_url, source, IMAGE_MAX_BYTES, IMAGE_SECONDS))
        except PodcastServiceError as e:
            missed.append(f"episode art: {e}")
    if extras.chapters_url:
        try:
            with _fetch(extras.chapters_url, source, SIDE_FILE_MAX_BYTES, IMAGE_SECONDS) as chapters:
                changes["chapters"] = chapter_json.parse_json(chapters.read_text(encoding="utf-8"))
        except (PodcastServiceError, UnicodeDecodeError) as e:
            missed.append(f"chapters: {e}")
    if extras.transcript:
        try:
            changes["transcript"] = files.enter_context(
                _fetch(extras.transcript[0], source, SIDE_FILE_MAX_BYTES, IMAGE_SECONDS)
            )
        except PodcastServiceError as e:
            missed.append(f"transcript: {e}")
    return replace(data, **changes), missed


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
