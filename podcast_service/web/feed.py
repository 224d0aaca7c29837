"""The feeds podcast apps poll: cheap to answer, and a 304 most of the time.

The bytes come from feed/cache.py, built once per change; a poll costs one
small query, and a 304 needs nothing more. Strong ETags differ between the
plain and the gzipped body, as RFC 9110 asks of different representations.
Behind nginx, a public feed is sent by nginx alone from files the service
leaves when nginx asks (feed_files.py), with the same bytes and headers.
"""

from __future__ import annotations

import gzip
import hashlib

from flask import Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from ..accounts.subscribers import subscriber_or_error
from ..core.settings import current_settings
from ..core.urls import feed_url
from ..delivery import feed_files
from ..delivery.lookups import show_or_404
from ..feed import cache
from ..models import Show
from . import bp

FEED_MAX_AGE = 300


def _etag(feed: cache.FeedState, token: str | None, gzipped: bool) -> str:
    """nginx's tag for a public feed's bytes; a subscriber's copy, whose bytes carry their token, gets its own."""
    if token is None:
        return feed.web_etag(gzipped)
    return hashlib.sha256(f"{feed.etag}:{token}".encode()).hexdigest() + ("-gzip" if gzipped else "")


def _respond(feed: cache.FeedState, *, token: str | None = None) -> BaseResponse:
    """The feed, or a 304, with validators and caching headers; a subscriber's copy carries their token."""
    wants_gzip = request.accept_encodings["gzip"] > 0
    tags = {_etag(feed, token, False), _etag(feed, token, True)}
    if request.if_none_match:
        not_modified = request.if_none_match.star_tag or any(request.if_none_match.contains(t) for t in tags)
    else:
        since = request.if_modified_since
        not_modified = since is not None and feed.last_modified <= since
    if not_modified:
        response = Response(status=304)
    else:
        feed, body, gzipped = cache.content(feed)
        if token is not None:
            body = body.replace(feed.token_slot.encode(), token.encode())
            gzipped = gzip.compress(body, compresslevel=6, mtime=0) if wants_gzip else b""
        response = Response(gzipped if wants_gzip else body, mimetype="application/rss+xml")
        if wants_gzip:
            response.content_encoding = "gzip"
    response.set_etag(_etag(feed, token, wants_gzip))
    response.last_modified = feed.last_modified
    response.vary.add("Accept-Encoding")
    response.cache_control.max_age = FEED_MAX_AGE
    if token is None:
        response.cache_control.public = True
    else:
        response.cache_control.private = True
    return response


@bp.route("/shows/<show_slug>/feed.xml")
def feed(show_slug: str) -> BaseResponse:
    """A public show's feed; a moved show's sends apps to its new address for good."""
    show = show_or_404(show_slug)
    if show.new_feed_url:
        return redirect(show.new_feed_url, code=301)
    feed = cache.state(show)
    if request.headers.get(feed_files.HEADER) == "1":
        _leave_files(show, feed)
    return _respond(feed)


def _leave_files(show: Show, feed: cache.FeedState) -> None:
    """nginx asked (it found no file of this feed for these ten seconds): leave this version's."""
    settings = current_settings()
    feed, body, gzipped = cache.content(feed)
    feed_files.leave(
        settings.storage_path,
        show.slug,
        feed.last_modified,
        feed.valid_until,
        body,
        gzipped,
        mode=settings.media_file_mode,
        still_current=lambda: cache.generation(show.id) == feed.generation,
    )


@bp.route("/subscriptions/<token>/feed.xml")
def subscriber_feed(token: str) -> BaseResponse:
    """A subscriber's personal feed of a private show (a show made public again sends them to its feed)."""
    subscriber = subscriber_or_error(token)
    show = subscriber.show
    if not show.private:
        return redirect(feed_url(show), code=301)
    return _respond(cache.state(show), token=token)
