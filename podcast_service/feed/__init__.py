"""RSS for podcast apps. The only module that imports feedgen (with its extensions beside it).

`build_feed` turns a show and its published episodes into the bytes every
app reads: RSS 2.0 with Apple's itunes: tags and the Podcast Index's
podcast: tags. The bytes depend only on the data, so equal data gives equal
bytes and a stable ETag; cache.py decides when to build.

data.py reads what the feed prints; itunes.py, podcast_ns.py and atom_links.py are
feedgen's extensions; changes.py marks feeds stale; announce.py tells hubs and directories.
"""

from __future__ import annotations

from collections.abc import Sequence

from feedgen.feed import FeedGenerator

from ..catalogue.transcripts import SERVED as TRANSCRIPT_FORMATS
from ..core.urls import FeedUrls
from ..models import Show
from .atom_links import AtomHubExtension
from .data import FeedEpisode, feed_show
from .itunes import ItunesEntryExtension, ItunesExtension
from .podcast_ns import PodcastEntryExtension, PodcastExtension, Source, Trailer, Transcript

GENERATOR = "podcast-service"


def build_feed(row: Show, episodes: Sequence[FeedEpisode], urls: FeedUrls, hubs: Sequence[str] = ()) -> bytes:
    """The show's feed, newest episode first (data.feed_episodes); `urls` makes it the public feed or a
    subscriber's. Its lastBuildDate is the latest publication or show change, not the time of the build.

    Every text is XML-safe whatever the rows hold (core/xmltext.py), so a stored value cannot make it fail."""
    show = feed_show(row)
    fg = FeedGenerator()
    fg.register_extension("itunes", ItunesExtension, ItunesEntryExtension)
    fg.register_extension("podcast", PodcastExtension, PodcastEntryExtension)
    fg.register_extension("websub", AtomHubExtension, None)
    fg.title(show.title)
    # feedgen writes the last link it was given as the RSS <link>: the site, after the self link.
    fg.link(href=urls.feed, rel="self", type="application/rss+xml")
    fg.link(href=show.website_url or urls.show_page, rel="alternate")
    fg.websub.hubs = [] if urls.private else list(hubs)
    fg.description(show.description)
    fg.language(show.language)
    fg.generator(GENERATOR)
    fg.lastBuildDate(max([show.updated_at, *(e.published_at for e in episodes[:1])]))
    if show.copyright:
        fg.copyright(show.copyright)
    image = urls.media(show.image, show.slug)
    if image:
        fg.image(url=image, title=show.title, link=show.website_url or urls.show_page)

    it = fg.itunes
    it.title = show.title
    it.summary = show.description
    it.author = show.author
    it.owner = (show.owner_name, show.owner_email)
    it.image = image
    it.categories = show.categories
    it.explicit = show.explicit
    it.type = show.show_type
    # A private feed stays out of Apple's directory even when someone submits it.
    it.block = show.block or urls.private
    it.complete = show.complete
    it.new_feed_url = show.new_feed_url

    pc = fg.podcast
    pc.locked, pc.locked_owner = show.locked, show.owner_email or None
    # The same refusal in the Podcasting 2.0 vocabulary, so no index takes a subscriber's personal URL.
    pc.block = it.block
    pc.guid = show.podcast_guid
    pc.medium = show.medium
    pc.funding = [tuple(f) for f in show.funding]
    pc.people = show.people
    if show.location_name:
        pc.location = (show.location_name, show.location_geo, show.location_osm)
    if show.license:
        pc.license = (show.license, show.license_url)
    pc.txt = [tuple(t) for t in show.txt]
    pc.podroll = [tuple(p) for p in show.podroll]
    if show.update_frequency_text:
        pc.update_frequency = (show.update_frequency_text, show.update_frequency, show.complete)

    for episode in episodes:
        name = episode.slug
        file_urls = [urls.audio(f, name) for f in episode.files]
        enclosure = episode.apple_file
        enclosure_url = None if enclosure is None else file_urls[episode.files.index(enclosure)]
        if episode.episode_type == "trailer" and enclosure is not None and enclosure_url is not None:
            pc.trailers.append(
                Trailer(
                    episode.title,
                    enclosure_url,
                    episode.published_at,
                    enclosure.size,
                    enclosure.mime_type,
                    episode.season,
                )
            )
        fe = fg.add_entry(order="append")
        fe.guid(episode.guid, permalink=False)
        fe.title(episode.title)
        page = urls.page(episode)
        if page:
            fe.link(href=page)
        fe.description(episode.summary or episode.title)
        if episode.notes_html:
            fe.content(episode.notes_html, type="CDATA")
        if enclosure is not None:
            fe.enclosure(enclosure_url, str(enclosure.size), enclosure.mime_type)
        fe.pubDate(episode.published_at)

        ie = fe.itunes
        ie.title = episode.title
        ie.summary = episode.summary or None
        ie.duration = round(episode.duration)
        ie.image = urls.media(episode.image, name)
        ie.explicit = episode.explicit
        ie.episode = episode.number
        ie.season = episode.season
        ie.episode_type = episode.episode_type

        pe = fe.podcast
        if episode.has_transcript:  # every format is made from its cues
            pe.transcripts = [
                Transcript(
                    urls.transcript(episode, fmt), mime, show.language, "captions" if fmt in ("vtt", "srt") else None
                )
                for fmt, mime in TRANSCRIPT_FORMATS.items()
            ]
        if episode.has_chapters:
            pe.chapters_url = urls.chapters(episode)
        pe.soundbites = [tuple(s) for s in episode.soundbites]
        pe.people = episode.people
        if episode.season is not None:
            pe.season = (episode.season, show.season_names.get(str(episode.season)))
        pe.episode = episode.number
        pe.alternates = [
            Source(url, f.size, f.mime_type, f.bitrate, f.extension[1:].upper(), f is enclosure)
            for f, url in zip(episode.files, file_urls)
        ]
    return fg.rss_str(pretty=True)
