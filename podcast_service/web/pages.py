"""Pages for web visitors: the shows, a show's episodes, one episode with its player."""

from __future__ import annotations

from flask import Response, jsonify, make_response, render_template
from sqlalchemy import select

from .. import chapters as chapter_json
from .. import transcripts
from ..episodes import published_episodes
from ..extensions import db
from ..models import Show
from . import bp
from .lookups import episode_by_preview_key_or_404, published_episode_or_404, show_or_404


@bp.route("/")
def home() -> str:
    shows = db.session.scalars(select(Show).order_by(Show.title)).all()
    return render_template("web/home.html", shows=[(s, published_episodes(s)) for s in shows])


@bp.route("/shows/<show_slug>/")
def show(show_slug: str) -> str:
    show = show_or_404(show_slug)
    return render_template("web/show.html", show=show, episodes=published_episodes(show))


@bp.route("/shows/<show_slug>/<episode_slug>/")
def episode(show_slug: str, episode_slug: str) -> str:
    show = show_or_404(show_slug)
    episode = published_episode_or_404(show, episode_slug)
    cues = [transcripts.Cue(*cue) for cue in episode.transcript_cues or []]
    return render_template("web/episode.html", show=show, episode=episode, cues=cues)


@bp.route("/preview/<key>/")
def preview(key: str) -> Response:
    """An episode's page whatever its status, for whoever holds its private link; never indexed or cached."""
    episode = episode_by_preview_key_or_404(key)
    cues = [transcripts.Cue(*cue) for cue in episode.transcript_cues or []]
    response = make_response(render_template("web/episode.html", show=episode.show, episode=episode, cues=cues,
                                             preview_key=key))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/shows/<show_slug>/<episode_slug>/chapters.json")
def chapters(show_slug: str, episode_slug: str) -> Response:
    """Podcast Index JSON chapters, for apps and for the page's own player."""
    episode = published_episode_or_404(show_or_404(show_slug), episode_slug)
    response = jsonify(chapter_json.to_json(episode.chapters))
    response.mimetype = "application/json+chapters"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
