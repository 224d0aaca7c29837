"""The producers' admin: server-rendered pages behind a sign-in, every form CSRF-protected.

Every route needs a signed-in user except the sign-in page itself; the check
runs before any view, so a new route cannot forget it. CSRF tokens are
checked after it, so an anonymous request is turned away before its body is
even read; and only a signed-in producer's request to an upload route may
carry a large body (core/uploads.py).

account.py (sign-in, password, tokens, users), shows.py, episodes.py,
imports.py and analytics.py hold the pages.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..catalogue.service import storage
from ..core.errors import Unauthorized
from ..core.extensions import csrf
from ..core.uploads import allow_uploads_for_this_view

bp = Blueprint("admin", __name__, url_prefix="/admin")

PUBLIC_ENDPOINTS = {"admin.login"}


@bp.before_request
def require_sign_in() -> Response | None:
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
        raise Unauthorized("sign in first", error="invalid_request")
    if current_user.is_authenticated:
        allow_uploads_for_this_view(storage().check)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    return None


@bp.after_request
def no_caching(response: Response) -> Response:
    """Admin pages hold private data: never kept by a browser or a proxy."""
    response.headers["Cache-Control"] = "no-store"
    return response


from . import account, analytics, episodes, imports, shows  # noqa: E402,F401  (registers the routes)
