"""The JSON API, /api/v1/: the producer's tools for scripts, with bearer tokens.

Every route needs a token, except the OpenAPI document: reading needs the
"read" scope and anything else "write". The check runs before any view, so a
new route cannot forget it. Cookies play no part here, which is why the API
needs none of the CSRF protection the admin forms have.

views.py holds the routes; openapi.py the document that describes them.
"""

from __future__ import annotations

from flask import Blueprint, g, request

from ..accounts.service import bearer_secret, token_for
from ..catalogue.service import storage
from ..core.errors import Forbidden, Unauthorized
from ..core.uploads import allow_uploads_for_this_view

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi"}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


@bp.before_request
def authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    secret = bearer_secret(request.headers.get("Authorization"))
    if secret is None:
        raise Unauthorized("send an API token: Authorization: Bearer <token>", error="invalid_request")
    token = token_for(secret)
    if token is None:
        raise Unauthorized("the API token is unknown or revoked")
    scope = "read" if request.method in READ_METHODS else "write"
    if scope not in token.scopes:
        error = Forbidden(f"this token lacks the {scope!r} scope")
        error.headers = {"WWW-Authenticate": f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'}
        raise error
    g.api_user = token.user
    allow_uploads_for_this_view(storage().check)


from . import openapi, views  # noqa: E402,F401  (registers the routes)
