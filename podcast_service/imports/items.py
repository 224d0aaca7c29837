"""A feed's items read one at a time, oldest first, in memory that does not grow with the feed.

A feed of 10,000 episodes is tens of MB of XML, and feedparser's reading of
it all at once takes several times that. So the file is read once with
lxml's iterparse: each `<item>` is written to a spool file (core/spools.py: locked
while the import lives, removed if it is killed) as it is met and dropped
from the tree, and only its publication time and place in the spool stay in
memory (a few dozen bytes an item). What is left of the tree is the channel
without its items, which feedparser and feed.py read as before. The items
are then read back oldest first, each parsed alone by feedparser (inside an
`<rss><channel>`, its namespaces declared on it by lxml) and by podcasting.py.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import feedparser
from feedparser.datetimes import _parse_date  # the date parser feedparser applies to every entry
from lxml import etree

from ..core import spools
from . import podcasting

_OLDEST = datetime.min.replace(tzinfo=UTC)


def explicit(node: Any) -> bool:
    return (node.findtext(f"{{{podcasting.ITUNES}}}explicit") or "").strip().lower() in ("true", "yes", "explicit")


def published(entry: dict) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None


@dataclass(frozen=True)
class Item:
    """One item as import_episodes needs it: feedparser's entry, the podcast: tags, itunes:explicit."""

    entry: dict
    extras: podcasting.ItemExtras
    explicit: bool


class ItemSpool:
    """The items of one feed, on disk, with where each starts and when it was published."""

    def __init__(self, spool: IO[bytes]) -> None:
        self.spool = spool
        self.places: list[tuple[datetime, int, int, int]] = []  # (published, order in feed, offset, length)
        self.season_names: dict[str, str] = {}  # a season's name, from the first item that gives one

    def add(self, item: Any) -> None:
        season = podcasting.season_name(item)
        if season is not None:
            self.season_names.setdefault(*season)
        data = etree.tostring(item)
        when = _parse_date(item.findtext("pubDate") or "")
        offset = self.spool.seek(0, 2)
        self.spool.write(data)
        moment = datetime.fromtimestamp(calendar.timegm(when), UTC) if when else _OLDEST
        self.places.append((moment, len(self.places), offset, len(data)))

    def __len__(self) -> int:
        return len(self.places)

    def __iter__(self) -> Iterator[Item]:
        """Oldest first; items without a date first, in the feed's order."""
        self.spool.flush()
        for _when, _order, offset, length in sorted(self.places):
            self.spool.seek(offset)
            data = self.spool.read(length)
            entries = feedparser.parse(b'<rss version="2.0"><channel>' + data + b"</channel></rss>").entries
            node = etree.fromstring(data, parser=_parser())
            if entries:
                yield Item(entries[0], podcasting.item_extras(node), explicit(node))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=True)


@contextmanager
def split(path: Path, folder: Path) -> Iterator[tuple[Any, ItemSpool]]:
    """(the feed's root element without its items, or None if it is not XML; the items, spooled in `folder`)."""
    with spools.open_spool(folder, "import-") as spool:
        items = ItemSpool(spool)
        try:
            # Only the channel's own items: a podcast:liveItem or an item of another namespace is left alone.
            reading = etree.iterparse(
                str(path),
                events=("end",),
                tag="item",
                resolve_entities=False,
                no_network=True,
                recover=True,
                huge_tree=True,
            )
            for _event, element in reading:
                parent = element.getparent()
                if parent is not None and parent.tag == "channel":
                    items.add(element)
                    parent.remove(element)
            root = reading.root
        except etree.XMLSyntaxError:
            root = None
        yield root, items
