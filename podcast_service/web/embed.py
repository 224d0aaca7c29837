"""The player other sites embed (the Coalition's report embeds its interview), and oEmbed to find it.

`/shows/<show>/<episode>/embed` is a compact page for an <iframe>: cover,
title, the player and the chapters, light or dark (`?theme=dark`). It is the
only page other sites may frame; every other public page refuses framing.
`/oembed?url=<episode page URL>` answers the oEmbed 1.0 JSON that content
systems use to turn a pasted link into that player; episode pages point at it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Response, abort, jsonify, make_response, render_template, request
from flask_babel import gettext
from markupsafe import escape

from ..core import urls
from ..delivery.lookups import published_episode_or_404, show_or_404
from ..models import Episode
from . import bp

THEMES = ("light", "dark")
# The iframe's size: wide enough for the title and the player's controls, tall enough for a few chapters.
WIDTH, HEIGHT, MIN_WIDTH = 640, 200, 280


@bp.route("/shows/<show_slug>/<episode_slug>/embed")
def embed(show_slug: str, episode_slug: str) -> Response:
    episode = published_episode_or_404(show_or_404(show_slug), episode_slug)
    theme = request.args.get("theme", "light")
    if theme not in THEMES:
        abort(404, description=gettext("The theme is light or dark."))
    return make_response(render_template("embed/episode.html", episode=episode, show=episode.show, theme=theme))


_EPISODE_PATH = re.compile(r"^/shows/(?P<show>[a-z0-9-]+)/(?P<episode>[a-z0-9-]+)/?$")


def _episode_at(url: str) -> Episode:
    """The published episode of a public show whose page `url` is; 404 for anything else."""
    base = urlsplit(urls.absolute("web.home"))
    given = urlsplit(url)
    match = _EPISODE_PATH.match(given.path)
    if (given.scheme, given.netloc) != (base.scheme, base.netloc) or match is None:
        abort(404, description="The URL is not an episode page of this site.")
    return published_episode_or_404(show_or_404(match["show"]), match["episode"])


def _dimension(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    if not value.isdigit():
        abort(400, description=f"{name} must be a whole number of pixels.")
    return int(value)


@bp.route("/oembed")
def oembed() -> Response:
    url = request.args.get("url")
    if not url:
        abort(400, description="Give the episode page's address as ?url=.")
    if request.args.get("format", "json") != "json":
        abort(501, description="Only the JSON format is offered.")
    episode = _episode_at(url)
    max_width, max_height = _dimension("maxwidth"), _dimension("maxheight")
    width = max(MIN_WIDTH, min(WIDTH, max_width)) if max_width is not None else WIDTH
    height = min(HEIGHT, max_height) if max_height is not None else HEIGHT
    src = urls.absolute("web.embed", show_slug=episode.show.slug, episode_slug=episode.slug)
    data = {
        "version": "1.0",
        "type": "rich",
        "title": episode.title,
        "author_name": episode.show.author or episode.show.title,
        "author_url": urls.show_url(episode.show),
        "provider_name": episode.show.title,
        "provider_url": urls.absolute("web.home"),
        "cache_age": 3600,
        "width": width,
        "height": height,
        "html": embed_code(src, episode.title, width, height),
    }
    image = urls.episode_image_url(episode)
    if image:
        data.update(thumbnail_url=image, thumbnail_width=1400, thumbnail_height=1400)
    response = jsonify(data)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def embed_code(src: str, title: str, width: int = WIDTH, height: int = HEIGHT) -> str:
    """The <iframe> a producer or a content system pastes into a page."""
    return (
        f'<iframe src="{escape(src)}" title="{escape(title)}" width="{width}" height="{height}" '
        f'style="border:0;max-width:100%" loading="lazy" allow="autoplay"></iframe>'
    )


def oembed_url(episode: Episode) -> str:
    return urls.absolute("web.oembed", url=urls.episode_url(episode), format="json")


def embed_url(episode: Episode) -> str:
    return urls.absolute("web.embed", show_slug=episode.show.slug, episode_slug=episode.slug)
