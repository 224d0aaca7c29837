"""What a shared link and a search engine show of a page: Open Graph tags and schema.org JSON-LD.

Built here, from the rows, as plain values; the templates print them (JSON-LD
through Jinja's `tojson`, which escapes `<`, so no producer text can close the
script element). Only published episodes' pages carry them: a preview page is
never indexed.
"""

from __future__ import annotations

from typing import Any

from ..core import urls
from ..models import Episode, Show


def _iso_duration(seconds: float | None) -> str:
    total = round(seconds or 0)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return "PT" + (f"{h}H" if h else "") + (f"{m}M" if m else "") + f"{s}S"


def show_jsonld(show: Show) -> dict:
    data = {
        "@context": "https://schema.org",
        "@type": "PodcastSeries",
        "name": show.title,
        "description": show.description,
        "url": urls.show_url(show),
        "webFeed": show.new_feed_url or urls.feed_url(show),
        "inLanguage": show.language,
        "author": {"@type": "Organization", "name": show.author or show.owner_name},
    }
    image = urls.file_url(show.image, show.slug)
    if image:
        data["image"] = image
    return data


def episode_jsonld(episode: Episode) -> dict:
    show = episode.show
    audio = episode.audio
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "PodcastEpisode",
        "name": episode.title,
        "description": episode.summary,
        "url": urls.episode_url(episode),
        "datePublished": episode.published_at.date().isoformat() if episode.published_at else None,
        "timeRequired": _iso_duration(audio.duration),
        "associatedMedia": {
            "@type": "MediaObject",
            "contentUrl": urls.audio_url(episode),
            "encodingFormat": audio.mime_type,
            "duration": _iso_duration(audio.duration),
            "contentSize": str(audio.size),
        },
        "partOfSeries": {"@type": "PodcastSeries", "name": show.title, "url": urls.show_url(show)},
        "inLanguage": show.language,
    }
    if episode.number is not None:
        data["episodeNumber"] = episode.number
    if episode.season is not None:
        data["partOfSeason"] = {"@type": "PodcastSeason", "seasonNumber": episode.season}
    image = urls.episode_image_url(episode)
    if image:
        data["image"] = image
    if episode.credits:
        data["actor"] = [
            {"@type": "Person", "name": c.name, **({"url": c.href} if c.href else {})} for c in episode.credits
        ]
    return {k: v for k, v in data.items() if v is not None}


def episode_open_graph(episode: Episode) -> list[tuple[str, str]]:
    """(property, content) pairs: og:audio lets a chat or social app offer the episode itself."""
    audio = episode.audio
    tags = [
        ("og:type", "music.song"),
        ("og:title", episode.title),
        ("og:description", episode.summary),
        ("og:url", urls.episode_url(episode)),
        ("og:site_name", episode.show.title),
        ("og:audio", urls.audio_url(episode)),
        ("og:audio:type", audio.mime_type),
    ]
    image = urls.episode_image_url(episode)
    if image:
        tags.append(("og:image", image))
    return tags


def show_open_graph(show: Show) -> list[tuple[str, str]]:
    tags = [
        ("og:type", "website"),
        ("og:title", show.title),
        ("og:description", show.description),
        ("og:url", urls.show_url(show)),
        ("og:site_name", show.title),
    ]
    image = urls.file_url(show.image, show.slug)
    if image:
        tags.append(("og:image", image))
    return tags
