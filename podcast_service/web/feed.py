"""The RSS feed view: conditional GET so polling apps mostly get a 304."""

from __future__ import annotations

import hashlib

from flask import Response, request

from ..episodes import published_episodes
from ..feed import build_feed, last_change
from . import bp
from .lookups import show_or_404

FEED_MAX_AGE = 300


@bp.route("/shows/<show_slug>/feed.xml")
def feed(show_slug: str) -> Response:
    show = show_or_404(show_slug)
    episodes = published_episodes(show)
    body = build_feed(show, episodes)
    response = Response(body, mimetype="application/rss+xml")
    response.set_etag(hashlib.sha256(body).hexdigest())
    response.last_modified = last_change(show, episodes)
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE
    return response.make_conditional(request)
