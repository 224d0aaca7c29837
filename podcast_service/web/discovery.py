"""What search engines read: robots.txt and the sitemap of every public page.

The sitemap lists the home page, every public show and every published
episode of one, and nothing else: drafts, scheduled and unpublished episodes,
episodes whose audio is still being made, private shows and preview links
never appear. Past the protocol's 50,000 URLs per file, /sitemap.xml becomes
a sitemap index of numbered files, each read from the episodes' primary key
(a range of ids, no OFFSET).

Each file is built once and kept by the process until the catalogue
changes, so a crawler's request costs two small queries whatever the size
of the site. What says it changed is already kept for the feeds: every
write to a show or its episodes bumps that show's `cached_feeds.generation`
in the same transaction (feed/changes.py), and the one thing that changes
without a write, a scheduled episode going live, is covered by keeping a
file only until the next scheduled publication.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import chain
from typing import Any
from xml.sax.saxutils import escape

from flask import Response, abort, current_app, url_for
from sqlalchemy import func, select

from ..core import urls
from ..core.extensions import db
from ..feed import cache as feed_cache
from ..models import CachedFeed, Episode, Show, utcnow
from . import bp

# The sitemap protocol's limit of URLs per file.
URLS_PER_FILE = 50_000
# Sitemaps change when episodes do; crawlers may keep them an hour.
CACHE_CONTROL = "public, max-age=3600"


def _public_episodes():  # noqa: ANN202
    return (
        select(Episode.id, Episode.slug, Episode.updated_at, Show.slug.label("show_slug"))
        .join(Show, Show.id == Episode.show_id)
        .where(Show.private.is_(False), Episode.public_at(utcnow()))
    )


def _url(loc: str, lastmod=None) -> str:  # noqa: ANN001
    modified = f"<lastmod>{lastmod.strftime('%Y-%m-%dT%H:%M:%SZ')}</lastmod>" if lastmod is not None else ""
    return f"<url><loc>{escape(loc)}</loc>{modified}</url>\n"


def _xml(body: bytes) -> Response:
    response = Response(body, mimetype="application/xml")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _version() -> tuple:
    """What the sitemaps are built from, in two small queries: each public show with the generation of its
    feed (bumped by any write to the show or its episodes), and when the next scheduled episode goes live."""
    rows = db.session.execute(
        select(Show.id, CachedFeed.generation)
        .outerjoin(CachedFeed, CachedFeed.show_id == Show.id)
        .where(Show.private.is_(False))
        .order_by(Show.id)
    ).all()
    if any(generation is None for _id, generation in rows):
        # A show whose feed nobody has asked for has no row to bump yet: make the rows, as the feed would.
        for show in db.session.scalars(select(Show).where(Show.id.in_([i for i, g in rows if g is None]))):
            feed_cache.state(show)
        return _version()
    now = utcnow()
    next_live = db.session.scalar(
        select(func.min(Episode.published_at)).where(Episode.withdrawn_at.is_(None), Episode.published_at > now)
    )
    return tuple(rows), next_live


_lock = threading.Lock()


def _kept(key: object, build: Callable[[], Any]) -> Any:
    """build()'s result as of the catalogue's current version: built once, then kept until the version changes."""
    version = _version()
    kept: dict[object, tuple[tuple, Any]] = current_app.extensions.setdefault("podcast_sitemaps", {})
    with _lock:
        held = kept.get(key)
    next_live: datetime | None = version[1]
    if held is not None and held[0] == version and (next_live is None or utcnow() < next_live):
        return held[1]
    value = build()
    with _lock:
        kept[key] = (version, value)
    return value


def _file(number: int, build: Callable[[], Iterator[str]]) -> Response:
    """Sitemap file `number` (0: /sitemap.xml itself)."""
    return _xml(_kept(number, lambda: "".join(build()).encode()))


def _episode_urls(query) -> Iterator[str]:  # noqa: ANN001
    base = urls.absolute("web.home").rstrip("/")
    for row in db.session.execute(query):
        yield _url(f"{base}/shows/{row.show_slug}/{row.slug}/", row.updated_at)


def _urlset(parts: Iterator[str]) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    yield from parts
    yield "</urlset>\n"


def _shows() -> Iterator[str]:
    yield _url(urls.absolute("web.home"))
    for show in db.session.scalars(select(Show).where(Show.private.is_(False)).order_by(Show.id)):
        yield _url(urls.show_url(show), show.updated_at)


def _starts() -> list[int]:
    """The first episode id of each file of episodes (every URLS_PER_FILE-th public episode, by id)."""
    ids = _public_episodes().with_only_columns(Episode.id).subquery()
    numbered = select(ids.c.id, func.row_number().over(order_by=ids.c.id).label("n")).subquery()
    return list(
        db.session.scalars(select(numbered.c.id).where(numbered.c.n % URLS_PER_FILE == 1).order_by(numbered.c.id))
    )


@bp.route("/robots.txt")
def robots() -> Response:
    """Everything public may be crawled, except preview links and the producers' side."""
    body = (
        f"User-agent: *\nDisallow: /preview/\nDisallow: /admin/\nDisallow: /api/\nDisallow: /subscriptions/\n\n"
        f"Sitemap: {urls.absolute('web.sitemap')}\n"
    )
    response = Response(body, mimetype="text/plain")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


@bp.route("/sitemap.xml")
def sitemap() -> Response:
    """One file while the site has at most 50,000 pages; else an index: the shows' file, then episodes'."""
    return _file(0, _sitemap)


def _sitemap() -> Iterator[str]:
    total = db.session.execute(select(func.count()).select_from(_public_episodes().subquery())).scalar_one()
    shows = db.session.execute(select(func.count()).select_from(Show).where(Show.private.is_(False))).scalar_one()
    if total + shows + 1 <= URLS_PER_FILE:
        yield from _urlset(chain(_shows(), _episode_urls(_public_episodes().order_by(Episode.id))))
        return
    files = 1 + len(_kept("starts", _starts))
    base = urls.absolute("web.home").rstrip("/")
    yield '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    for n in range(1, files + 1):
        yield f"<sitemap><loc>{escape(base + url_for('web.sitemap_file', number=n))}</loc></sitemap>\n"
    yield "</sitemapindex>\n"


@bp.route("/sitemaps/<int:number>.xml")
def sitemap_file(number: int) -> Response:
    """File `number` of the index: the first holds the home page and the shows, the others episodes by id."""
    if number == 1:
        return _file(1, lambda: _urlset(_shows()))
    starts = _kept("starts", _starts)
    if not 2 <= number <= len(starts) + 1:
        abort(404, description="There is no such sitemap file.")
    query = _public_episodes().order_by(Episode.id).where(Episode.id >= starts[number - 2])
    if number - 1 < len(starts):
        query = query.where(Episode.id < starts[number - 1])
    return _file(number, lambda: _urlset(_episode_urls(query)))
