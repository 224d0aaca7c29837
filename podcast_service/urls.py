"""Absolute public URLs, built from the configured base URL.

Feeds and share links must carry the public address even when built outside
a request (the CLI, a background job) or behind a proxy that rewrites Host,
so the request's host is never used.
"""

from __future__ import annotations

from flask import current_app

from .models import Episode, MediaFile, Show


def absolute(endpoint: str, **values: object) -> str:
    adapter = current_app.url_map.bind("unused.invalid")  # only the path is taken
    return current_app.config["PODCAST"].base_url + adapter.build(endpoint, values)


def media_url(row: MediaFile, name: str) -> str:
    """The stable, ASCII URL of a stored file, ending in its extension (Apple decides by it)."""
    return absolute("web.media", public_id=row.public_id, filename=f"{name}{row.extension}")


def show_url(show: Show) -> str:
    return absolute("web.show", show_slug=show.slug)


def feed_url(show: Show) -> str:
    return absolute("web.feed", show_slug=show.slug)


def episode_url(episode: Episode) -> str:
    return absolute("web.episode", show_slug=episode.show.slug, episode_slug=episode.slug)


def preview_url(episode: Episode) -> str:
    """The private link to an episode's page whatever its status, for the producers' eyes."""
    return absolute("web.preview", key=episode.preview_key)


def audio_url(episode: Episode) -> str:
    return media_url(episode.audio, episode.slug)


def file_url(row: MediaFile | None, name: str) -> str | None:
    return None if row is None else media_url(row, name)


def episode_image_url(episode: Episode) -> str | None:
    """The episode's own art, else the show's."""
    if episode.image is not None:
        return media_url(episode.image, episode.slug)
    return file_url(episode.show.image, episode.show.slug)
