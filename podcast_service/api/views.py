"""API routes: thin views that parse the request, call the service, and return JSON."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Response, g, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..accounts import service as accounts
from ..accounts import subscribers
from ..analytics import reports
from ..catalogue import coercion as fields
from ..catalogue import languages as versions
from ..catalogue.inputs import EpisodeInput, ShowInput
from ..catalogue.lists import EpisodeParts, episode_rows, listed
from ..catalogue.serialize import (
    EpisodeLinks,
    episode_json,
    episode_versions_json,
    show_json,
    show_versions_json,
    subscriber_json,
)
from ..catalogue.service import (
    add_alternate,
    delete_episode,
    episode_input,
    process_again,
    remove_alternate,
    rotate_preview_link,
    save_episode,
    save_show,
)
from ..core.errors import Conflict, NotFound, ValidationError
from ..core.extensions import db
from ..core.pagination import Page, page_number, paginate
from ..core.uploads import accepts_uploads, uploaded
from ..models import AlternateFile, Episode, Show, Subscriber, utcnow
from . import bp


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("send a JSON object with Content-Type: application/json")
    return body


def _episode_fields() -> dict[str, Any]:
    """Fields of a multipart form or of a JSON object, whichever the request carries."""
    if request.mimetype == "multipart/form-data":
        return request.form.to_dict()
    return _json_body()


def _episode_files(data: EpisodeInput) -> EpisodeInput:
    """Cover art and transcript sent as files beside the fields."""
    image = uploaded(request.files.get("image"), "image")
    transcript = uploaded(request.files.get("transcript"), "transcript")
    return replace(data, image=image[0] if image else None, transcript=transcript[0] if transcript else None)


# API lists: ?page=N&per_page=M, at most MAX_PER_PAGE a page.
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


def _page_request() -> tuple[int, int]:
    number = page_number(request.args.get("page"))
    size = request.args.get("per_page", "")
    if size and (not size.isdigit() or not 1 <= int(size) <= MAX_PER_PAGE):
        raise ValidationError(f"per_page must be a whole number from 1 to {MAX_PER_PAGE}")
    return number, int(size) if size else DEFAULT_PER_PAGE


def _paged(page: Page, items: list[Any]) -> Response:
    """The page's items, with RFC 8288 Link headers to the next and previous pages."""
    response = jsonify(items)
    links = []
    for rel, number, present in (
        ("next", page.number + 1, page.has_next),
        ("prev", page.number - 1, page.has_previous),
    ):
        if present:
            url = url_for(
                str(request.endpoint), **(request.view_args or {}), page=number, per_page=page.size, _external=False
            )
            links.append(f'<{url}>; rel="{rel}"')
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


@bp.get("/shows")
def list_shows() -> Response:
    query = accounts.visible_shows_query(g.api_user).options(joinedload(Show.image), selectinload(Show.credits))
    page = paginate(query, *_page_request())
    return _paged(page, [show_json(s) for s in page.items])


@bp.post("/shows")
def create_show() -> tuple[Response, int]:
    body = _json_body()
    data = fields.show_changes(body, ShowInput(slug=body.get("slug") or "", title="", description=""))
    show = save_show(data, new=True)
    if not g.api_user.is_admin:
        accounts.set_member(show, g.api_user, "owner")
    return jsonify(show_json(show)), 201


@bp.get("/shows/<slug>")
def get_show(slug: str) -> Response:
    return jsonify(show_json(accounts.producer_show(g.api_user, slug)))


@bp.patch("/shows/<slug>")
def update_show(slug: str) -> Response:
    show = accounts.producer_show(g.api_user, slug, owner=True)
    body = _json_body()
    if body.get("slug", slug) != slug:
        raise ValidationError("a show's slug cannot change: its feed URL is built from it")
    return jsonify(show_json(save_show(fields.show_changes(body, fields.show_input(show)))))


@bp.put("/shows/<slug>/image")
@accepts_uploads
def put_show_image(slug: str) -> Response:
    show = accounts.producer_show(g.api_user, slug, owner=True)
    image, _name = uploaded(request.files.get("image"), "image", required=True)
    return jsonify(show_json(save_show(fields.show_input(show), image=image)))


@bp.get("/shows/<slug>/episodes")
def list_episodes(slug: str) -> Response:
    show = accounts.producer_show(g.api_user, slug)
    query = episode_rows().where(Episode.show_id == show.id).order_by(Episode.created_at.desc(), Episode.id.desc())
    page = paginate(query, *_page_request())
    episodes = listed(page.items)
    links, parts = EpisodeLinks(show), EpisodeParts.read(episodes)
    return _paged(page, [episode_json(e, links, parts) for e in episodes])


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip().strip('"')
    if not 1 <= len(key) <= 64 or not key.isascii() or not key.isprintable():
        raise ValidationError("Idempotency-Key must be 1 to 64 printable ASCII characters, e.g. a UUID")
    return key


def _replayed(show_id: int, key: str | None) -> tuple[Response, int] | None:
    """The answer to an earlier request with this key, which created this episode."""
    if key is None:
        return None
    episode = db.session.scalar(select(Episode).where(Episode.show_id == show_id, Episode.idempotency_key == key))
    if episode is None:
        return None
    response = jsonify(episode_json(episode))
    response.headers["Idempotent-Replayed"] = "true"
    return response, 201


@bp.post("/shows/<slug>/episodes")
@accepts_uploads
def create_episode(slug: str) -> tuple[Response, int]:
    """Multipart: the `audio` file plus fields; what is left out comes from the file's tags.

    With an Idempotency-Key header, a retry (after an answer lost on the way,
    say) gets the episode the first request made instead of a second one.
    """
    show = accounts.producer_show(g.api_user, slug)
    key = _idempotency_key()
    if (replay := _replayed(show.id, key)) is not None:
        return replay
    if request.mimetype != "multipart/form-data":
        raise ValidationError("send the episode as multipart/form-data with the audio in the field 'audio'")
    audio, name = uploaded(request.files.get("audio"), "audio", required=True)
    data = fields.episode_changes(request.form.to_dict(), EpisodeInput(), utcnow())
    try:
        episode = save_episode(show, _episode_files(data), audio, audio_name=name, idempotency_key=key)
    except (IntegrityError, Conflict):
        # The same key, sent twice at once: the other request made the episode (or its slug).
        if (replay := _replayed(show.id, key)) is not None:
            return replay
        raise
    return jsonify(episode_json(episode)), 201


@bp.get("/shows/<slug>/episodes/<int:episode_id>")
def get_episode(slug: str, episode_id: int) -> Response:
    show = accounts.producer_show(g.api_user, slug)
    return jsonify(episode_json(accounts.producer_episode(show, episode_id)))


@bp.patch("/shows/<slug>/episodes/<int:episode_id>")
@accepts_uploads
def update_episode(slug: str, episode_id: int) -> Response:
    """JSON fields, or multipart with fields and optionally new `audio` (the guid stays)."""
    show = accounts.producer_show(g.api_user, slug)
    episode = accounts.producer_episode(show, episode_id)
    data = fields.episode_changes(_episode_fields(), episode_input(episode), utcnow())
    audio = name = None
    if request.mimetype == "multipart/form-data":
        audio, name = uploaded(request.files.get("audio"), "audio") or (None, None)
        data = _episode_files(data)
    return jsonify(episode_json(save_episode(show, data, audio, existing=episode, audio_name=name)))


@bp.delete("/shows/<slug>/episodes/<int:episode_id>")
def remove_episode(slug: str, episode_id: int) -> tuple[str, int]:
    show = accounts.producer_show(g.api_user, slug)
    delete_episode(accounts.producer_episode(show, episode_id))
    return "", 204


@bp.put("/shows/<slug>/episodes/<int:episode_id>/transcript")
@accepts_uploads
def put_transcript(slug: str, episode_id: int) -> Response:
    """Multipart field `transcript`: WebVTT or SRT, checked before it is stored."""
    show = accounts.producer_show(g.api_user, slug)
    episode = accounts.producer_episode(show, episode_id)
    transcript, _name = uploaded(request.files.get("transcript"), "transcript", required=True)
    data = replace(episode_input(episode), transcript=transcript)
    return jsonify(episode_json(save_episode(show, data, existing=episode)))


@bp.delete("/shows/<slug>/episodes/<int:episode_id>/transcript")
def delete_transcript(slug: str, episode_id: int) -> Response:
    show = accounts.producer_show(g.api_user, slug)
    episode = accounts.producer_episode(show, episode_id)
    data = replace(episode_input(episode), remove_transcript=True)
    return jsonify(episode_json(save_episode(show, data, existing=episode)))


@bp.post("/shows/<slug>/episodes/<int:episode_id>/preview-link")
def new_preview_link(slug: str, episode_id: int) -> Response:
    """A new preview_url; the old one stops working."""
    episode = accounts.producer_episode(accounts.producer_show(g.api_user, slug), episode_id)
    rotate_preview_link(episode)
    return jsonify(episode_json(episode))


@bp.put("/shows/<slug>/episodes/<int:episode_id>/chapters")
def put_chapters(slug: str, episode_id: int) -> Response:
    """Podcast Index JSON chapters, or a list of {start, title, url}."""
    show = accounts.producer_show(g.api_user, slug)
    episode = accounts.producer_episode(show, episode_id)
    body = request.get_json(silent=True)
    if not isinstance(body, (dict, list)):
        raise ValidationError("send the chapters as JSON (Podcast Index chapters or a list)")
    data = replace(episode_input(episode), chapters=fields.chapter_list(body))
    return jsonify(episode_json(save_episode(show, data, existing=episode)))


@bp.post("/shows/<slug>/episodes/<int:episode_id>/alternates")
@accepts_uploads
def post_alternate(slug: str, episode_id: int) -> tuple[Response, int]:
    """Multipart field `audio`: another rendition of the episode (Opus beside MP3, say)."""
    show = accounts.producer_show(g.api_user, slug)
    episode = accounts.producer_episode(show, episode_id)
    audio, name = uploaded(request.files.get("audio"), "audio", required=True)
    add_alternate(episode, audio, name)
    return jsonify(episode_json(episode)), 201


@bp.delete("/shows/<slug>/episodes/<int:episode_id>/alternates/<int:alternate_id>")
def delete_alternate(slug: str, episode_id: int, alternate_id: int) -> Response:
    show = accounts.producer_show(g.api_user, slug)
    episode = accounts.producer_episode(show, episode_id)
    alternate = db.session.get(AlternateFile, alternate_id)
    if alternate is None or alternate.episode_id != episode.id:
        raise NotFound("the episode has no such alternate file")
    remove_alternate(episode, alternate)
    return jsonify(episode_json(episode))


@bp.post("/shows/<slug>/episodes/<int:episode_id>/audio/process")
def post_process_audio(slug: str, episode_id: int) -> tuple[Response, int]:
    """Run the audio job again: after a failure, or to make renditions with the show's current settings."""
    show = accounts.producer_show(g.api_user, slug)
    episode = accounts.producer_episode(show, episode_id)
    return jsonify(episode_json(process_again(episode))), 202


@bp.get("/shows/<slug>/analytics")
def show_analytics(slug: str) -> Response:
    """The dashboard's figures: downloads per day, apps, sources, episodes' first 7/30/90 days."""
    show = accounts.producer_show(g.api_user, slug)
    days = request.args.get("days", "30")
    if not days.isdigit() or not 1 <= int(days) <= 366:
        raise ValidationError("days is a whole number from 1 to 366")
    return jsonify(reports.as_json(reports.show_figures(show, days=int(days))))


@bp.get("/shows/<slug>/subscribers")
def list_subscribers(slug: str) -> Response:
    show = accounts.producer_show(g.api_user, slug, owner=True)
    return jsonify([subscriber_json(s) for s in show.subscribers])


@bp.post("/shows/<slug>/subscribers")
def create_subscriber(slug: str) -> tuple[Response, int]:
    """A personal feed URL for a private show's listener; the URL is in this response only."""
    show = accounts.producer_show(g.api_user, slug, owner=True)
    subscriber, token = subscribers.create_subscriber(show, _json_body().get("name") or "")
    return jsonify(subscriber_json(subscriber, token)), 201


@bp.delete("/shows/<slug>/subscribers/<int:subscriber_id>")
def revoke_subscriber(slug: str, subscriber_id: int) -> Response:
    """The subscriber's feed and files answer 403 from now on."""
    show = accounts.producer_show(g.api_user, slug, owner=True)
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.show_id != show.id:
        raise NotFound("the show has no such subscriber")
    subscribers.revoke_subscriber(subscriber)
    return jsonify(subscriber_json(subscriber))


def _names(key: str) -> list[str]:
    """{"<key>": ["...", ...]}: the list a versions request names (an empty list unpairs)."""
    names = _json_body().get(key)
    if not isinstance(names, list) or not all(isinstance(n, str) and len(n) <= 300 for n in names):
        raise ValidationError(f'send {{"{key}": [...]}}, a list of names (an empty list removes every pairing)')
    return names


@bp.get("/shows/<slug>/versions")
def get_show_versions(slug: str) -> Response:
    """The shows that are this one in other languages (catalogue/languages.py)."""
    return jsonify(show_versions_json(accounts.producer_show(g.api_user, slug)))


@bp.put("/shows/<slug>/versions")
def put_show_versions(slug: str) -> Response:
    """Name this show's versions in other languages by their slugs (owners; each a show the user edits)."""
    show = accounts.producer_show(g.api_user, slug, owner=True)
    versions.set_show_versions(g.api_user, show, _names("shows"))
    return jsonify(show_versions_json(show))


@bp.get("/shows/<slug>/episodes/<int:episode_id>/versions")
def get_episode_versions(slug: str, episode_id: int) -> Response:
    """The same episode in the show's versions, as `show-slug/episode-slug`."""
    show = accounts.producer_show(g.api_user, slug)
    return jsonify(episode_versions_json(accounts.producer_episode(show, episode_id)))


@bp.put("/shows/<slug>/episodes/<int:episode_id>/versions")
def put_episode_versions(slug: str, episode_id: int) -> Response:
    """Pair the episode with its counterparts, each named `show-slug/episode-slug` in one of the show's versions."""
    show = accounts.producer_show(g.api_user, slug)
    episode = accounts.producer_episode(show, episode_id)
    versions.set_episode_versions(g.api_user, episode, _names("episodes"))
    return jsonify(episode_versions_json(episode))
