"""Shows and episodes as the API returns them; api/openapi.py documents the same shapes."""

from __future__ import annotations

from typing import Any

from ..core import urls
from ..models import Episode, Show, Subscriber
from . import languages as versions
from .apple import show_warnings, warnings
from .audio_jobs import audio_state
from .categories import format_category
from .lists import EpisodeParts, ListedEpisode
from .service import AUDIO_SETTINGS, FEED_SETTINGS


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def person_json(credit: Any) -> dict:
    return {
        "name": credit.name,
        "role": credit.role,
        "group": credit.group,
        "title": credit.title,
        "href": credit.href,
        "img": credit.img,
    }


def show_json(show: Show) -> dict:
    return {
        "slug": show.slug,
        "title": show.title,
        "description": show.description,
        "language": show.language,
        "author": show.author,
        "owner_name": show.owner_name,
        "owner_email": show.owner_email,
        "copyright": show.copyright,
        "website_url": show.website_url,
        "categories": [format_category(c) for c in show.categories],
        "explicit": show.explicit,
        "show_type": show.show_type,
        "people": [person_json(c) for c in show.credits],
        **{name: getattr(show, name) for name in (*FEED_SETTINGS, *AUDIO_SETTINGS)},
        "podcast_guid": show.podcast_guid,
        "image_url": urls.file_url(show.image, show.slug),
        "page_url": urls.show_url(show),
        "feed_url": urls.feed_url(show),
        "warnings": show_warnings(show),
    }


def subscriber_json(subscriber: Subscriber, token: str | None = None) -> dict:
    """A private show's subscriber; the feed URL only when just created (only its hash is kept)."""
    data = {
        "id": subscriber.id,
        "name": subscriber.name,
        "prefix": subscriber.prefix,
        "created_at": _iso(subscriber.created_at),
        "last_used_at": _iso(subscriber.last_used_at),
        "revoked_at": _iso(subscriber.revoked_at),
    }
    if token is not None:
        data["feed_url"] = urls.subscriber_feed_url(token)
    return data


class EpisodeLinks:
    """The addresses in a show's episodes' JSON, from URL patterns built once (urls.pattern): a page of
    fifty episodes would otherwise build two hundred URLs through Werkzeug, one by one."""

    def __init__(self, show: Show) -> None:
        self.files = urls.FeedUrls(show)
        self._preview = urls.pattern("web.preview", "key")

    def preview(self, episode: Episode | ListedEpisode) -> str:
        return self._preview.format(episode.preview_key)


def episode_json(
    episode: Episode | ListedEpisode, links: EpisodeLinks | None = None, parts: EpisodeParts | None = None
) -> dict:
    """An episode, a model or a list's row (catalogue/lists.py); `links` from the show and `parts` read for the
    page when a list writes many."""
    audio = episode.audio
    if links is None or parts is None:
        if not isinstance(episode, Episode):
            raise TypeError("a list's row is written with its show's links and its page's parts")
        links = links or EpisodeLinks(episode.show)
        parts = parts or EpisodeParts.of(episode)
    own = parts[episode]
    files = links.files
    return {
        "id": episode.id,
        "slug": episode.slug,
        "guid": episode.guid,
        "title": episode.title,
        "summary": episode.summary,
        "notes": episode.notes,
        "status": episode.status.value,
        "published_at": _iso(episode.published_at),
        "season": episode.season,
        "number": episode.number,
        "episode_type": episode.episode_type,
        "explicit": episode.explicit,
        "duration": audio.duration,
        "mime_type": audio.mime_type,
        "size": audio.size,
        "audio_url": files.media(audio, episode.slug),
        "image_url": files.media(own.image, episode.slug),
        "page_url": files.page(episode),
        "preview_url": links.preview(episode),
        "chapters": [{"start": c.start, "end": c.end, "title": c.title, "url": c.url} for c in own.chapters],
        "transcript_url": files.media(own.transcript, episode.slug),
        "people": [person_json(c) for c in own.credits],
        "links": [{"title": link.title, "url": link.url, "rel": link.rel} for link in own.links],
        "soundbites": [{"start": s, "duration": d, "title": t} for s, d, t in episode.soundbites],
        "alternates": [
            {
                "id": a.id,
                "url": files.media(a.media, episode.slug),
                "mime_type": a.media.mime_type,
                "size": a.media.size,
                "bitrate": a.media.bitrate,
                "duration": a.media.duration,
            }
            for a in own.alternates
        ],
        "audio": audio_state(episode, own.job, own.master, files),
        "warnings": warnings([episode]),
    }


def show_versions_json(show: Show) -> dict:
    """The shows of the same programme in other languages, private ones included (only producers see this)."""
    return {
        "shows": [
            {"slug": s.slug, "title": s.title, "language": s.language, "page_url": urls.show_url(s)}
            for s in versions.paired_shows(show)
        ]
    }


def episode_versions_json(episode: Episode) -> dict:
    """The same episode in the programme's other shows, published or not."""
    return {
        "episodes": [
            {
                "id": e.id,
                "name": f"{e.show.slug}/{e.slug}",
                "title": e.title,
                "language": e.show.language,
                "status": e.status.value,
            }
            for e in versions.paired_episodes(episode)
        ]
    }
