"""/healthz for load balancers and orchestrators: can this process serve, with its database and its store?

It answers within HEALTH_SECONDS whatever hangs: each check runs in a thread
of its own, and one not done by then counts as down. Anonymous callers learn
only ok or not: the names of buckets, endpoints and paths that an error
message carries are for operators, who get the details with an admin's API
token (Authorization: Bearer ...) or in the log.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from ..accounts.service import bearer_secret, token_for
from ..catalogue.service import storage
from ..core import revision as schema
from ..core.errors import RETRY_AFTER_SECONDS, StorageError
from ..core.extensions import db
from ..core.settings import Settings, current_settings
from . import bp

HEALTH_SECONDS = 1.8
# Checks that hang (a frozen database) keep a thread until their own timeout; a few are enough.
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="healthz")


def _database() -> str:
    try:
        state = schema.state()
        return "ok" if state.ok else state.problem()
    except SQLAlchemyError as e:
        db.session.rollback()
        return f"unreachable: {type(e).__name__}"
    finally:
        db.session.remove()


def _storage() -> str:
    try:
        storage().check()
        return "ok"
    except StorageError as e:
        return f"error: {e}"


def _disk() -> str:
    """Free space where this process writes: the database file, the media folder, the upload spools."""
    settings: Settings = current_settings()
    folders = [settings.upload_temp_path]
    if settings.storage_backend == "local":
        folders.append(settings.storage_path)
    database = schema.sqlite_file(settings.database_url)
    if database is not None:
        folders.append(database.parent)
    for folder in folders:
        existing = next((p for p in (folder, *folder.parents) if p.exists()), folder)
        free_mb = shutil.disk_usage(existing).free // (1024 * 1024)
        if free_mb < settings.min_free_disk_mb:
            return f"low: {free_mb} MB free for {folder} (min_free_disk_mb is {settings.min_free_disk_mb})"
    return "ok"


def _in_app(app: Flask, check: Callable[[], str]) -> Callable[[], str]:
    def run() -> str:
        with app.app_context():
            return check()

    return run


def _checks() -> dict[str, str]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    futures = {
        name: _pool.submit(_in_app(app, check))
        for name, check in (("database", _database), ("storage", _storage), ("disk", _disk))
    }
    wait(futures.values(), timeout=HEALTH_SECONDS)
    checks = {name: f.result() if f.done() else f"no answer within {HEALTH_SECONDS} s" for name, f in futures.items()}
    for name, result in checks.items():
        if result != "ok":
            current_app.logger.warning("health check: %s: %s", name, result)
    return checks


def _operator() -> bool:
    secret = bearer_secret(request.headers.get("Authorization"))
    if secret is None:
        return False
    try:
        token = token_for(secret)
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return token is not None and token.user.is_admin


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    checks = _checks()
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    database_answers = not checks["database"].startswith(("unreachable", "no answer"))
    if database_answers and _operator():
        body.update(checks)
    response = jsonify(body)
    response.cache_control.no_store = True
    if not healthy:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, 200 if healthy else 503
