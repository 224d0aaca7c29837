"""/healthz for load balancers and orchestrators: can this process serve, with its database and its store?

Anonymous callers learn only ok or not: the names of buckets, endpoints and
paths that an error message carries are for operators, who get the details
with an admin's API token (Authorization: Bearer ...) or in the log.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from .. import schema
from ..accounts import token_for
from ..episodes import storage
from ..errors import StorageError
from ..extensions import db
from . import bp


def _checks() -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        state = schema.state()
        checks["database"] = "ok" if state.ok else state.problem()
    except SQLAlchemyError as e:
        db.session.rollback()
        checks["database"] = f"unreachable: {type(e).__name__}"
    try:
        storage().check()
        checks["storage"] = "ok"
    except StorageError as e:
        checks["storage"] = f"error: {e}"
    for name, result in checks.items():
        if result != "ok":
            current_app.logger.warning("health check: %s: %s", name, result)
    return checks


def _operator() -> bool:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return False
    try:
        token = token_for(secret.strip())
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return token is not None and token.user.is_admin


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    checks = _checks()
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    if _operator():
        body.update(checks)
    response = jsonify(body)
    response.cache_control.no_store = True
    return response, 200 if healthy else 503
