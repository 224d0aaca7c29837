"""/healthz for load balancers and orchestrators: can this process reach its database and its store?"""

from __future__ import annotations

from flask import Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..episodes import storage
from ..errors import StorageError
from ..extensions import db
from . import bp


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as e:
        db.session.rollback()
        current_app.logger.warning("health check: database unreachable: %s", e)
        checks["database"] = f"error: {type(e).__name__}"
    try:
        storage().check()
        checks["storage"] = "ok"
    except StorageError as e:
        current_app.logger.warning("health check: %s", e)
        checks["storage"] = f"error: {e}"
    healthy = all(v == "ok" for v in checks.values())
    response = jsonify(status="ok" if healthy else "unavailable", **checks)
    response.cache_control.no_store = True
    return response, 200 if healthy else 503
