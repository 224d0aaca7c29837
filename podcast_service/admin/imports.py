"""Importing a podcast from another host in the admin: paste its feed's address, follow the import's progress.

The import itself runs on the job queue (imports/background.py); these pages
start it, show its row, and let its producer start it again when it stopped.
"""

from __future__ import annotations

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..core.errors import PodcastServiceError
from ..imports import background
from ..models import FeedImport
from . import bp


@bp.route("/imports/new", methods=["GET", "POST"])
def new_import() -> Response | tuple[str, int] | str:
    if request.method == "GET":
        return render_template("admin/import_form.html", form={}, imports=background.mine(current_user))
    form = request.form
    try:
        row = background.start(
            current_user,
            form.get("source", ""),
            slug=form.get("slug"),
            owner_email=form.get("owner_email"),
        )
    except PodcastServiceError as e:
        return render_template(
            "admin/import_form.html", form=form, error=e.for_client, imports=background.mine(current_user)
        ), e.http_status
    return redirect(url_for("admin.feed_import", import_id=row.id))


def _mine_or_404(import_id: int) -> FeedImport:
    row = background.visible(current_user, import_id)
    if row is None:
        abort(404, description="There is no import with this number.")
    return row


@bp.get("/imports/<int:import_id>")
def feed_import(import_id: int) -> str:
    row = _mine_or_404(import_id)
    return render_template(
        "admin/import.html", row=row, status=background.as_json(row), may_restart=background.may_restart(row)
    )


@bp.get("/imports/<int:import_id>.json")
def feed_import_status(import_id: int) -> Response:
    """What the page polls while the import runs."""
    return jsonify(background.as_json(_mine_or_404(import_id)))


@bp.post("/imports/<int:import_id>/restart")
def restart_import(import_id: int) -> Response | tuple[str, int]:
    row = _mine_or_404(import_id)
    try:
        background.restart(row)
    except PodcastServiceError as e:
        return render_template(
            "admin/import.html", row=row, status=background.as_json(row), error=e.for_client, may_restart=False
        ), e.http_status
    return redirect(url_for("admin.feed_import", import_id=row.id))
