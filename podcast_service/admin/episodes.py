"""Episodes in the admin: upload (with a progress bar), edit, publish, replace the audio, delete.

An upload creates a draft at once, filled from the file's own tags, and
sends the producer to its edit form: nothing is lost if the producer walks
away, and nothing is public until they publish.
"""

from __future__ import annotations

from dataclasses import replace

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from ..accounts import service as accounts
from ..catalogue import audio_jobs, chapters
from ..catalogue import coercion as fields
from ..catalogue import languages as versions
from ..catalogue import service as episodes
from ..catalogue.apple import warnings
from ..catalogue.inputs import EpisodeInput
from ..catalogue.service import delete_episode, episode_input, rotate_preview_link, save_episode
from ..core.errors import PodcastServiceError
from ..core.extensions import db
from ..core.i18n import STATUS_NAMES
from ..core.settings import current_settings
from ..core.uploads import accepts_uploads, uploaded
from ..models import AlternateFile, Episode, Show, utcnow
from . import bp


def _limit_mb() -> int:
    return current_settings().max_upload_mb


@bp.get("/shows/<slug>/episodes/new")
def new_episode(slug: str) -> str:
    show = accounts.producer_show(current_user, slug)
    return render_template("admin/upload.html", show=show, limit_mb=_limit_mb())


@bp.post("/shows/<slug>/episodes/upload")
@accepts_uploads
def upload_episode(slug: str) -> tuple[Response, int]:
    """The upload page's XHR target: stores the file as a draft and answers with its edit URL."""
    show = accounts.producer_show(current_user, slug)
    audio, name = uploaded(request.files.get("audio"), lazy_gettext("audio"), required=True)
    episode = save_episode(show, EpisodeInput(), audio, audio_name=name)
    flash(gettext("Uploaded %(name)s. Check the details the file carried, then publish.", name=name))
    return jsonify(edit_url=url_for("admin.edit_episode", slug=slug, episode_id=episode.id)), 201


def _episode(slug: str, episode_id: int) -> tuple[Show, Episode]:
    show = accounts.producer_show(current_user, slug)
    return show, accounts.producer_episode(show, episode_id)


def _form_fields() -> dict[str, str]:
    """The edit form's fields, with its UTC date-time input given the offset it implies."""
    form = request.form.to_dict()
    form.pop("csrf_token", None)
    publish_at = form.get("publish_at", "").strip()
    if publish_at and not publish_at.endswith("Z") and "+" not in publish_at[10:]:
        form["publish_at"] = publish_at + "+00:00"
    if "chapters_file" in request.files and request.files["chapters_file"].filename:
        spooled = uploaded(request.files["chapters_file"], lazy_gettext("chapters file"))
        if spooled:
            form["chapters"] = chapters.read_file(spooled[0])
    return form


@bp.route("/shows/<slug>/episodes/<int:episode_id>/", methods=["GET", "POST"])
@accepts_uploads
def edit_episode(slug: str, episode_id: int) -> Response | tuple[str, int]:
    show, episode = _episode(slug, episode_id)
    if request.method == "GET":
        return _edit_page(show, episode)
    try:
        data = fields.episode_changes(_form_fields(), episode_input(episode), utcnow())
        image = uploaded(request.files.get("image"), lazy_gettext("episode cover art"))
        transcript = uploaded(request.files.get("transcript"), lazy_gettext("transcript"))
        data = replace(
            data,
            image=image[0] if image else None,
            transcript=transcript[0] if transcript else None,
            remove_image=request.form.get("remove_image") == "true",
            remove_transcript=request.form.get("remove_transcript") == "true",
        )
        save_episode(show, data, existing=episode)
    except PodcastServiceError as e:
        db.session.rollback()
        return _edit_page(show, episode, error=e.for_client, form=request.form, status=e.http_status)
    flash(gettext("Saved. The episode is %(status)s.", status=STATUS_NAMES[episode.status.value]))
    return redirect(url_for("admin.edit_episode", slug=slug, episode_id=episode_id))


def _edit_page(
    show: Show, episode: Episode, *, error: str | None = None, form: object = None, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "admin/episode_form.html",
        show=show,
        episode=episode,
        data=episode_input(episode),
        error=error,
        form=form,
        limit_mb=_limit_mb(),
        now=utcnow(),
        warnings=warnings([episode]),
        audio_state=audio_jobs.audio_state(episode, episode.audio_job, episode.master),
    ), status


@bp.post("/shows/<slug>/episodes/<int:episode_id>/audio")
@accepts_uploads
def replace_audio(slug: str, episode_id: int) -> Response:
    """XHR target of the edit page's audio upload; the guid and the rest of the episode stay."""
    show, episode = _episode(slug, episode_id)
    audio, name = uploaded(request.files.get("audio"), lazy_gettext("audio"), required=True)
    save_episode(show, episode_input(episode), audio, existing=episode, audio_name=name)
    flash(gettext("The audio is replaced by %(name)s.", name=name))
    return jsonify(edit_url=url_for("admin.edit_episode", slug=slug, episode_id=episode_id))


@bp.post("/shows/<slug>/episodes/<int:episode_id>/preview-link")
def new_preview_link(slug: str, episode_id: int) -> Response:
    _show, episode = _episode(slug, episode_id)
    rotate_preview_link(episode)
    flash(gettext("The episode has a new private preview link; the old one no longer works."))
    return redirect(url_for("admin.edit_episode", slug=slug, episode_id=episode_id))


@bp.post("/shows/<slug>/episodes/<int:episode_id>/delete")
def remove_episode(slug: str, episode_id: int) -> Response:
    _show, episode = _episode(slug, episode_id)
    title = episode.title
    delete_episode(episode)
    flash(gettext("Episode %(title)r and its files are deleted.", title=title))
    return redirect(url_for("admin.show", slug=slug))


@bp.post("/shows/<slug>/episodes/<int:episode_id>/versions")
def set_episode_versions(slug: str, episode_id: int) -> Response:
    """Pair the episode with the same episode in the show's versions in other languages."""
    _show, episode = _episode(slug, episode_id)
    try:
        others = versions.set_episode_versions(current_user, episode, request.form.get("versions", "").splitlines())
        flash(
            gettext(
                "The same episode in other languages: %(episodes)s.",
                episodes=", ".join(f"{o.show.slug}/{o.slug}" for o in others),
            )
            if others
            else gettext("This episode is paired with none in other languages now.")
        )
    except PodcastServiceError as e:
        db.session.rollback()
        flash(e.for_client, "error")
    return redirect(url_for("admin.edit_episode", slug=slug, episode_id=episode_id) + "#versions")


@bp.post("/shows/<slug>/episodes/<int:episode_id>/alternates")
@accepts_uploads
def add_alternate(slug: str, episode_id: int) -> Response:
    _show, episode = _episode(slug, episode_id)
    try:
        audio, name = uploaded(request.files.get("audio"), lazy_gettext("audio"), required=True)
        episodes.add_alternate(episode, audio, name)
        flash(gettext("Added %(name)s as another rendition.", name=name))
    except PodcastServiceError as e:
        db.session.rollback()
        flash(e.for_client, "error")
    return redirect(url_for("admin.edit_episode", slug=slug, episode_id=episode_id) + "#renditions")


@bp.post("/shows/<slug>/episodes/<int:episode_id>/alternates/<int:alternate_id>/remove")
def remove_alternate(slug: str, episode_id: int, alternate_id: int) -> Response:
    _show, episode = _episode(slug, episode_id)
    alternate = db.session.get(AlternateFile, alternate_id)
    if alternate is not None and alternate.episode_id == episode.id:
        episodes.remove_alternate(episode, alternate)
        flash(gettext("Rendition removed."))
    return redirect(url_for("admin.edit_episode", slug=slug, episode_id=episode_id) + "#renditions")


@bp.get("/shows/<slug>/episodes/<int:episode_id>/audio-state")
def audio_state(slug: str, episode_id: int) -> Response:
    """What the edit page polls while the audio is processed (the API's `audio` object)."""
    _show, episode = _episode(slug, episode_id)
    return jsonify(audio_jobs.audio_state(episode, episode.audio_job, episode.master))


@bp.post("/shows/<slug>/episodes/<int:episode_id>/audio/process")
def process_audio_again(slug: str, episode_id: int) -> Response:
    """Measure the audio again and, for a master, make its renditions again with the show's settings."""
    _show, episode = _episode(slug, episode_id)
    try:
        episodes.process_again(episode)
        flash(gettext("The audio is being processed again; this page shows its progress."))
    except PodcastServiceError as e:
        db.session.rollback()
        flash(e.for_client, "error")
    return redirect(url_for("admin.edit_episode", slug=slug, episode_id=episode_id) + "#renditions")
