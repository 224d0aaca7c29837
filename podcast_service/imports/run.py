"""One import of a feed, started from the command line or from the admin: the same steps, reported to either.

The command line reports to a terminal (progress.py); the admin's worker to
the import's row, which the progress page reads (background.py).
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from ..core.errors import ValidationError
from ..models import Show
from . import feed as feed_import
from .feed import ImportedItem


def no_counts() -> Counter[str]:
    """Items so far by outcome, each outcome present from the start (the summary names all three)."""
    return Counter({"imported": 0, "present": 0, "failed": 0})


class Reporter(Protocol):
    counts: Counter[str]

    def started(self, show: Show, total: int, notes: list[str]) -> None: ...

    def done(self, item: ImportedItem) -> None: ...


class NothingImported(ValidationError):
    """A first import of which no episode could be brought over: the show it made is gone again."""


def import_feed(
    source: str,
    reporter: Reporter,
    *,
    slug: str | None = None,
    categories: list[str] | None = None,
    owner_email: str | None = None,
    into_existing: bool = False,
    override_lock: bool = False,
    verify_code: str | None = None,
    may_edit: feed_import.Editable = None,
) -> Show:
    """Import the feed at `source` (see feed.py for what arrives, and how a locked feed or a guid is proven
    to be the producer's); returns the show.

    `may_edit(show)` says whether the one importing may add episodes to a
    show: the admin lets a producer find an earlier import of the feed only
    among the shows they edit. (A show that merely has the slug is never
    written into without `into_existing`.)
    """
    with feed_import.open_feed(source) as feed:
        earlier = feed_import.existing_show(feed, slug, may_edit)
        notes: list[str] = []
        show = feed_import.import_show(
            feed,
            slug=slug,
            categories=categories,
            into_existing=into_existing,
            owner_email=owner_email,
            override_lock=override_lock,
            verify_code=verify_code,
            may_edit=may_edit,
            notes=notes,
        )
        reporter.started(show, len(feed.items), notes if earlier is None else [])
        for item in feed_import.import_episodes(show, feed):
            reporter.done(item)
    if earlier is None and reporter.counts["failed"] and not reporter.counts["imported"]:
        made = show.slug
        feed_import.discard_show(show)
        raise NothingImported(f"no episode could be imported: show {made} not created")
    return show
