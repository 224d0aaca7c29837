"""Absolute public URLs, built from the configured base URL.

Feeds and share links must carry the public address even when built outside
a request (the CLI, a background job) or behind a proxy that rewrites Host,
so the request's host is never used.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from flask import current_app, url_for

from ..models import Episode, Show
from .settings import current_settings


def absolute(endpoint: str, **values: object) -> str:
    adapter = current_app.url_map.bind("unused.invalid")  # only the path is taken
    return current_settings().base_url + adapter.build(endpoint, values)


def media_url(row: Stored, name: str) -> str:
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


def file_url(row: Stored | None, name: str) -> str | None:
    return None if row is None else media_url(row, name)


def episode_image_url(episode: Episode) -> str | None:
    """The episode's own art, else the show's."""
    if episode.image is not None:
        return media_url(episode.image, episode.slug)
    return file_url(episode.show.image, episode.show.slug)


def chapters_url(episode: Episode) -> str:
    return absolute("web.chapters", show_slug=episode.show.slug, episode_slug=episode.slug)


def transcript_url(episode: Episode, fmt: str) -> str:
    return absolute("web.transcript", show_slug=episode.show.slug, episode_slug=episode.slug, fmt=fmt)


def subscriber_feed_url(token: str) -> str:
    return absolute("web.subscriber_feed", token=token)


def opml_url() -> str:
    return absolute("web.opml")


# The path segment that is a secret: a subscriber's token, a preview key (deploy/nginx.conf masks the same).
_SECRET_SEGMENT = re.compile(r"^(/subscriptions/|/preview/)[^/]+")


def loggable(path: str) -> str:
    """The path with its secret segment replaced by `*`, for access logs: /subscriptions/*/feed.xml."""
    return _SECRET_SEGMENT.sub(r"\1*", path)


# What stands for each name while a pattern is built: a number (an <int:> converter takes nothing else),
# drawn at random so that no slug or id in the same URL can be taken for it.
_MARK = 10**17 + secrets.randbelow(10**17)


def pattern(endpoint: str, *names: str, build: Callable[..., str] = absolute, **values: object) -> str:
    """The endpoint's URL (absolute, or as `build` makes it: url_for for a page's own links) as a str.format
    pattern with {0}, {1}... for `names`, in order.

    Werkzeug's URL building costs microseconds per call; a feed of thousands
    of episodes needs several URLs each, and a list page one a row, so each
    builds its pattern once. What fills it must need no quoting in a URL (a
    slug, an id, a public id, a file name made of them).
    """
    url = build(endpoint, **values, **{n: _MARK + i for i, n in enumerate(names)})
    url = url.replace("{", "{{").replace("}", "}}")
    for i in range(len(names)):
        url = url.replace(str(_MARK + i), f"{{{i}}}")
    return url


class Stored(Protocol):
    """A stored file as URLs need it: a MediaFile, or a list's or a feed's plain row of one."""

    @property
    def public_id(self) -> str: ...

    @property
    def extension(self) -> str: ...


class Slugged(Protocol):
    """An episode as URLs need it: the model, or a list's or a feed's plain row of one."""

    @property
    def slug(self) -> str: ...


class FeedUrls:
    """Every address a feed links to, for the public feed or for one subscriber's private feed.

    A private feed's addresses carry the subscriber's token in the path (apps
    keep paths intact where some drop query strings), so each of its files
    is reachable with that token only.
    """

    def __init__(self, show: Show, token: str | None = None) -> None:
        self.private = token is not None
        # Only the public feed's audio goes through a measurement service: a private feed's URLs carry tokens.
        self._prefix = show.measurement_prefix if token is None else ""
        if token is None:
            self.feed = feed_url(show)
            self.show_page = show_url(show)
            self._media = pattern("web.media", "public_id", "filename")
            self._chapters = pattern("web.chapters", "episode_slug", show_slug=show.slug)
            self._transcript = pattern("web.transcript", "episode_slug", "fmt", show_slug=show.slug)
            self._page: str | None = pattern("web.episode", "episode_slug", show_slug=show.slug)
        else:
            self.feed = subscriber_feed_url(token)
            self.show_page = show.website_url or current_settings().base_url + "/"
            self._media = pattern("web.subscriber_media", "public_id", "filename", token=token)
            self._chapters = pattern("web.subscriber_chapters", "episode_slug", token=token)
            self._transcript = pattern("web.subscriber_transcript", "episode_slug", "fmt", token=token)
            self._page = None

    def media(self, row: Stored | None, name: str) -> str | None:
        if row is None:
            return None
        return self._media.format(row.public_id, name + row.extension)

    def audio(self, row: Stored, name: str) -> str:
        """An enclosure's URL, behind the show's measurement prefix if it has one (OP3's https://op3.dev/e/
        takes the URL without "https://", as Podtrac's and others' do; a plain-http URL keeps its scheme)."""
        url = self._media.format(row.public_id, name + row.extension)
        return self._prefix + url.removeprefix("https://") if self._prefix else url

    def chapters(self, episode: Slugged) -> str:
        return self._chapters.format(episode.slug)

    def transcript(self, episode: Slugged, fmt: str) -> str:
        return self._transcript.format(episode.slug, fmt)

    def page(self, episode: Slugged) -> str | None:
        """The episode's public page; a private show's episodes have none."""
        return None if self._page is None else self._page.format(episode.slug)


@functools.cache
def _static_version(folder: str, filename: str) -> str:
    return hashlib.sha256((Path(folder) / filename).read_bytes()).hexdigest()[:12]


def static_url(filename: str) -> str:
    """A file of the package's static folder, addressed by its content (`?v=` changes when it does)."""
    return url_for("static", filename=filename, v=_static_version(current_app.static_folder, filename))
