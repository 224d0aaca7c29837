"""Podcast publishing service: a Flask application factory.

create_app is a short list of named steps and has no side effects beyond
making the SQLite folder: no migrations, no network, no prompts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from . import cli
from .errors import PodcastServiceError
from .extensions import db, migrate
from .settings import Settings, load_settings
from .storage import make_stores

PACKAGE_DIR = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """Inside the package in an installed wheel; at the top of the repository in a checkout."""
    packaged = PACKAGE_DIR / "templates"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "templates"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    settings = load_settings(test_config)
    app = Flask(__name__, template_folder=str(templates_dir()))
    configure_settings(app, settings)
    configure_logging(app, settings)
    configure_extensions(app, settings)
    configure_blueprints(app)
    configure_template_helpers(app)
    configure_error_handlers(app)
    cli.register(app)
    return app


def configure_settings(app: Flask, settings: Settings) -> None:
    """Expose the typed settings, and the few Flask and extension keys derived from them."""
    app.config["PODCAST"] = settings
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.database_url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}


def configure_logging(app: Flask, settings: Settings) -> None:
    """Log to stderr at the configured level (gunicorn and the CLI both collect it)."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("podcast_service").setLevel(settings.log_level)


def configure_extensions(app: Flask, settings: Settings) -> None:
    """Database, migrations and the media store."""
    if settings.is_sqlite and settings.database_url.startswith("sqlite:////"):
        Path(settings.database_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db)
    app.extensions["podcast_stores"] = make_stores(settings)


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, _record) -> None:  # noqa: ANN001
    """SQLite ignores foreign keys unless asked, per connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def configure_blueprints(app: Flask) -> None:
    from .web import bp as web

    app.register_blueprint(web)


def configure_template_helpers(app: Flask) -> None:
    """Filters and globals the templates use."""
    from . import urls
    from .markup import render_markdown

    def hms(seconds: float | None) -> str:
        total = round(seconds or 0)
        h, rest = divmod(total, 3600)
        m, s = divmod(rest, 60)
        return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"

    app.jinja_env.filters["hms"] = hms
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.globals["urls"] = urls


def configure_error_handlers(app: Flask) -> None:
    """HTML error pages with a message for every HTTP error and every service error."""

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):  # noqa: ANN202
        # Start from the exception's own response: it carries headers such as a 416's Content-Range.
        response = e.get_response()
        response.set_data(render_template("errors/error.html", code=e.code, title=e.name, message=e.description))
        return response

    @app.errorhandler(PodcastServiceError)
    def service_error(e: PodcastServiceError):  # noqa: ANN202
        if e.http_status >= 500:
            app.logger.error("%s: %s", type(e).__name__, e)
        return render_template("errors/error.html", code=e.http_status, title="Error", message=str(e)), e.http_status
