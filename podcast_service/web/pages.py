"""Pages for web visitors: the shows, a show's episodes, one episode with its player."""

from __future__ import annotations

from flask import Response, abort, jsonify, make_response, render_template, request
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..accounts.subscribers import subscriber_or_error
from ..catalogue import chapters as chapter_json
from ..catalogue import languages as versions
from ..catalogue import search, transcripts
from ..catalogue.service import published_query
from ..core import urls
from ..core.errors import NotFound
from ..core.extensions import db
from ..core.i18n import page_versions, supported
from ..core.pagination import page_number, paginate
from ..delivery.lookups import episode_by_preview_key_or_404, published_episode_or_404, show_or_404
from ..models import CachedFeed, Episode, Show, utcnow
from . import bp, transcript_parts, waveform

# Episodes per page of a show's page, and of its search results.
SHOW_PAGE_SIZE = 50
SEARCH_PAGE_SIZE = 20


def public_shows() -> list[Show]:
    return list(
        db.session.scalars(
            select(Show).options(joinedload(Show.image)).where(Show.private.is_(False)).order_by(Show.title)
        )
    )


@bp.route("/")
def home() -> str:
    """Every public show; the number of episodes is the one its feed last listed (no count over every episode)."""
    shows = public_shows()
    counts = dict(db.session.execute(select(CachedFeed.show_id, CachedFeed.item_count)).all())
    return render_template("web/home.html", shows=[(s, counts.get(s.id)) for s in shows])


@bp.route("/shows/<show_slug>/")
def show(show_slug: str) -> str:
    """The show and its episodes, newest first, SHOW_PAGE_SIZE a page (?page=2...)."""
    show = show_or_404(show_slug)
    try:
        page = paginate(published_query(show), page_number(request.args.get("page")), SHOW_PAGE_SIZE)
    except NotFound:
        abort(404, description=gettext("There is no such page of episodes."))
    if page.number == 1:
        page_versions({supported(s.language): urls.show_url(s) for s in versions.show_versions(show)})
    return render_template("web/show.html", show=show, page=page, episodes=page.items)


# Longer queries are refused rather than cut silently (only the first words would count anyway).
MAX_QUERY_LENGTH = 200


@bp.route("/shows/<show_slug>/search")
def search_show(show_slug: str) -> Response:
    """The show's published episodes matching ?q= (titles, summaries, show notes), best first, paginated."""
    show = show_or_404(show_slug)
    query = request.args.get("q", "").strip()
    if len(query) > MAX_QUERY_LENGTH:
        abort(400, description=gettext("Search for at most %(count)s characters.", count=MAX_QUERY_LENGTH))
    found = search.matching(show, query)
    page = None
    if found is not None:
        try:
            page = paginate(found, page_number(request.args.get("page")), SEARCH_PAGE_SIZE)
        except NotFound:
            abort(404, description=gettext("There is no such page of results."))
    response = make_response(
        render_template("web/search.html", show=show, query=query, page=page, words=search.terms(query))
    )
    response.headers["X-Robots-Tag"] = "noindex, follow"
    return response


@bp.route("/shows/<show_slug>/<episode_slug>/")
def episode(show_slug: str, episode_slug: str) -> str:
    return _episode_page(published_episode_or_404(show_or_404(show_slug), episode_slug))


def _episode_page(episode: Episode, preview_key: str | None = None) -> str:
    try:
        transcript = transcript_parts.part(episode, request.args.get("transcript"))
    except NotFound:
        abort(404, description=gettext("The transcript has no such part."))
    if preview_key is None:
        page_versions({supported(e.show.language): urls.episode_url(e) for e in versions.episode_versions(episode)})
    return render_template(
        "web/episode.html",
        show=episode.show,
        episode=episode,
        transcript=transcript,
        waveform=waveform.for_episode(episode),
        preview_key=preview_key,
    )


@bp.route("/preview/<key>/")
def preview(key: str) -> Response:
    """An episode's page whatever its status, for whoever holds its private link; never indexed or cached."""
    response = make_response(_episode_page(episode_by_preview_key_or_404(key), preview_key=key))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _chapters(episode: Episode) -> Response:
    response = jsonify(chapter_json.to_json(episode.chapters))
    response.mimetype = "application/json+chapters"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _transcript(episode: Episode, fmt: str) -> Response:
    if fmt not in transcripts.SERVED or not episode.transcript_cues:
        abort(404)
    cues = [transcripts.Cue(*cue) for cue in episode.transcript_cues]
    response = make_response(transcripts.render(cues, fmt))
    response.mimetype = transcripts.SERVED[fmt]
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/shows/<show_slug>/<episode_slug>/chapters.json")
def chapters(show_slug: str, episode_slug: str) -> Response:
    """Podcast Index JSON chapters, for apps and for the page's own player."""
    return _chapters(published_episode_or_404(show_or_404(show_slug), episode_slug))


@bp.route("/shows/<show_slug>/<episode_slug>/transcript.<fmt>")
def transcript(show_slug: str, episode_slug: str, fmt: str) -> Response:
    """The transcript as WebVTT, SRT, Podcast Index JSON or HTML, whatever the producer uploaded."""
    return _transcript(published_episode_or_404(show_or_404(show_slug), episode_slug), fmt)


@bp.route("/subscriptions/<token>/<episode_slug>/chapters.json")
def subscriber_chapters(token: str, episode_slug: str) -> Response:
    return _chapters(published_episode_or_404(subscriber_or_error(token).show, episode_slug))


@bp.route("/subscriptions/<token>/<episode_slug>/transcript.<fmt>")
def subscriber_transcript(token: str, episode_slug: str, fmt: str) -> Response:
    return _transcript(published_episode_or_404(subscriber_or_error(token).show, episode_slug), fmt)


@bp.route("/opml.xml")
def opml() -> Response:
    """Every public show's feed as an OPML subscription list, for importing into a podcast app."""
    response = make_response(render_template("web/opml.xml", shows=public_shows(), now=utcnow()))
    response.mimetype = "text/x-opml"
    return response
