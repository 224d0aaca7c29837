"""RSS for podcast apps. The only module that imports feedgen (with its extensions beside it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from feedgen.feed import FeedGenerator

from .. import urls
from ..markup import render_markdown
from ..models import Episode, Show
from .itunes import ItunesEntryExtension, ItunesExtension

GENERATOR = "podcast-service"


def last_change(show: Show, episodes: Sequence[Episode]) -> datetime:
    """When the feed's content last changed: its lastBuildDate and Last-Modified."""
    times = [show.updated_at] + [e.updated_at for e in episodes] + [e.published_at for e in episodes]
    return max(t for t in times if t is not None)


def build_feed(show: Show, episodes: Sequence[Episode]) -> bytes:
    """The show's RSS 2.0 document with Apple's tags, newest episode first.

    The bytes depend only on the data (lastBuildDate is the last change, not
    the time of the build), so equal data gives equal bytes and a stable ETag.
    """
    fg = FeedGenerator()
    fg.register_extension("itunes", ItunesExtension, ItunesEntryExtension)
    show_page = urls.show_url(show)
    fg.title(show.title)
    # feedgen writes the last link it was given as the RSS <link>: the site, after the self link.
    fg.link(href=urls.feed_url(show), rel="self", type="application/rss+xml")
    fg.link(href=show.website_url or show_page, rel="alternate")
    fg.description(show.description)
    fg.language(show.language)
    fg.generator(GENERATOR)
    fg.lastBuildDate(last_change(show, episodes))
    if show.copyright:
        fg.copyright(show.copyright)
    image = urls.file_url(show.image, show.slug)
    if image:
        fg.image(url=image, title=show.title, link=show_page)

    it = fg.itunes
    it.title = show.title
    it.author = show.author
    it.owner = (show.owner_name, show.owner_email)
    it.image = image
    it.categories = show.categories
    it.explicit = show.explicit
    it.type = show.show_type

    for episode in episodes:
        fe = fg.add_entry(order="append")
        fe.guid(episode.guid, permalink=False)
        fe.title(episode.title)
        fe.link(href=urls.episode_url(episode))
        fe.description(episode.summary or episode.title)
        if episode.notes:
            fe.content(str(render_markdown(episode.notes)), type="CDATA")
        fe.enclosure(urls.audio_url(episode), str(episode.audio.size), episode.audio.mime_type)
        fe.pubDate(episode.published_at)
        ie = fe.itunes
        ie.title = episode.title
        ie.duration = round(episode.audio.duration or 0)
        ie.image = urls.file_url(episode.image, episode.slug)
        ie.explicit = episode.explicit
        ie.episode = episode.number
        ie.season = episode.season
        ie.episode_type = episode.episode_type
    return fg.rss_str(pretty=True)
