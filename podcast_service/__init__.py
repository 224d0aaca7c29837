"""Podcast publishing service: a Flask application factory.

create_app is a short list of named steps and has no side effects beyond
making the SQLite folder: no migrations, no network, no prompts.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, render_template, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from . import jobs
from .cli import commands as cli
from .core import db_watchdog, i18n, json_output
from .core.errors import RETRY_AFTER_SECONDS, PodcastServiceError
from .core.extensions import csrf, db, login_manager, migrate
from .core.private_files import private_folder, restrict_new_file
from .core.settings import Settings, load_settings
from .core.uploads import UploadRequest
from .media.storage import make_stores
from .models import User

PACKAGE_DIR = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """Inside the package in an installed wheel; at the top of the repository in a checkout."""
    packaged = PACKAGE_DIR / "templates"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "templates"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    settings = load_settings(test_config)
    app = Flask(__name__, template_folder=str(templates_dir()))
    configure_settings(app, settings)
    json_output.init_app(app)
    configure_media_replay(app, settings)
    configure_proxies(app, settings)
    configure_logging(app, settings)
    configure_extensions(app, settings)
    configure_blueprints(app)
    configure_template_helpers(app)
    i18n.init_app(app)
    configure_static_files(app)
    configure_error_handlers(app)
    configure_change_subscribers(app)
    configure_jobs(app)
    configure_background(app)
    cli.register(app)
    return app


def configure_settings(app: Flask, settings: Settings) -> None:
    """Expose the typed settings, and the few Flask and extension keys derived from them."""
    app.config["PODCAST"] = settings
    app.config["SECRET_KEY"] = settings.secret_key or secrets.token_hex(32)  # unset: one per process
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.database_url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(settings)
    secure = settings.base_url.startswith("https://")
    app.config.update(
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SAMESITE="Lax",
        # How old a signed cookie may be (Flask checks it whether the session is permanent or not): as old
        # as the server-side session it names may get (accounts/service.py ends it sooner when idle).
        PERMANENT_SESSION_LIFETIME=timedelta(days=settings.session_max_days),
        # CSRF tokens live as long as the session: a long upload must not outlive its form's token.
        WTF_CSRF_TIME_LIMIT=None,
        # The admin blueprint checks CSRF itself, after the sign-in check (see admin/__init__.py).
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    app.request_class = UploadRequest
    app.session_interface = PublicSessionInterface()


class PublicSessionInterface(SecureCookieSessionInterface):
    """Flask marks every response that looked at the session `Vary: Cookie` (Flask-Login looks on each
    request), which makes a CDN or proxy keep a copy per visitor. Pages, feeds and media of the public
    site are the same for everyone and set no cookie: they drop it."""

    def open_session(self, app: Flask, request: Any) -> Any:
        """Without a session cookie there is nothing to verify: no signer is built (the media route is
        the busiest there is, and apps send no cookie)."""
        if "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if request.blueprint == "web" and not session and not session.modified:
            return  # nothing to set or clear, and the answer does not depend on a cookie
        super().save_session(app, session, response)
        if request.blueprint == "web" and not session.modified and "Vary" in response.headers:
            remaining = [v for v in response.vary if v.lower() != "cookie"]
            if remaining:
                response.vary = remaining
            else:
                del response.headers["Vary"]


# Connections beyond one per request thread: the analytics writer, nginx's log reader, the feed-file writers.
BACKGROUND_CONNECTIONS = 4


def engine_options(settings: Settings) -> dict[str, Any]:
    """Every wait on the database is bounded by `database_timeout_seconds`.

    The pool holds a connection for each request thread and the background
    threads, and a thread that finds none free waits that long, then gets a
    503. PostgreSQL: connecting, each statement and each lock wait; TCP
    keepalives notice a peer that vanished. SQLite: how long a writer waits
    for another to finish (WAL mode, set on connect, lets readers go on
    meanwhile).
    """
    seconds = settings.database_timeout_seconds
    pool = {"pool_size": settings.threads + BACKGROUND_CONNECTIONS, "max_overflow": 0, "pool_timeout": seconds}
    if settings.is_sqlite:
        return {**pool, "connect_args": {"timeout": seconds}}
    ms = seconds * 1000
    # Options given in the URL (a search_path, say) are kept: connect_args would replace them.
    given = make_url(settings.database_url).query.get("options", "")
    options = " ".join(
        [*([given] if isinstance(given, str) else given), f"-c statement_timeout={ms}", f"-c lock_timeout={ms}"]
    ).strip()
    return {
        **pool,
        "pool_pre_ping": True,
        "connect_args": {
            "connect_timeout": seconds,
            "options": options,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            "tcp_user_timeout": ms,
        },
    }


def configure_media_replay(app: Flask, settings: Settings) -> None:
    """With nginx sending media (`accel_redirect`), repeated enclosure requests are answered from memory
    (delivery/replay.py). Installed before the proxy fix, so it sees the client's address as Flask does."""
    if settings.accel_redirect:
        from .delivery.replay import MediaReplay

        app.wsgi_app = MediaReplay(app, app.wsgi_app)  # type: ignore[method-assign]


def configure_proxies(app: Flask, settings: Settings) -> None:
    """Behind `trusted_proxies` reverse proxies, take the client's address and scheme from their headers.

    Only that many: a client cannot pass off a forged X-Forwarded-For, since
    each proxy appends what it saw. With none (the default) the headers are
    ignored. Throttling keys on this address.
    """
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]


def configure_logging(app: Flask, settings: Settings) -> None:
    """Log to stderr at the configured level (gunicorn and the CLI both collect it)."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("podcast_service").setLevel(settings.log_level)
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, _NoClientAddress) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(_NoClientAddress())


class _NoClientAddress(logging.Filter):
    """The development server (`flask run`, `make demo`) logs each request after the client's address; the
    address is dropped, as in production's access logs (listeners are counted without it)."""

    _ADDRESS = re.compile(r"^\S+ - - \[")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self._ADDRESS.sub("- - - [", record.msg, count=1)
        return True


def configure_extensions(app: Flask, settings: Settings) -> None:
    """Database, migrations and the media store."""
    if settings.is_sqlite and settings.database_url.startswith("sqlite:////"):
        private_folder(Path(settings.database_url[len("sqlite:///") :]).parent)
    db.init_app(app)
    if not settings.is_sqlite:
        with app.app_context():  # the engine exists from init_app on; nothing connects here
            db_watchdog.install(db.engine, settings.database_timeout_seconds)
    migrate.init_app(app, db)
    app.extensions["podcast_stores"] = make_stores(settings)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)


def load_user(session_key: str) -> User | None:
    """The signed-in user, while their session lives on the server (logout and password changes end it)."""
    from .accounts.service import session_user

    return session_user(session_key)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    """SQLite ignores foreign keys unless asked, per connection; WAL lets reads go on during a write. A database
    file this connection has just created is made 0600 before anything is written (its -wal and -shm then
    get the same mode)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        for _seq, name, file in cursor.execute("PRAGMA database_list").fetchall():
            if name == "main" and file:
                restrict_new_file(Path(file))
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def configure_blueprints(app: Flask) -> None:
    """The public site, the producers' admin and the JSON API (which uses tokens, not cookies)."""
    from .admin import bp as admin
    from .api import bp as api
    from .web import bp as web

    app.register_blueprint(web)
    app.register_blueprint(admin)
    app.register_blueprint(api)


def configure_change_subscribers(app: Flask) -> None:
    """What keeps in step with every committed change (core/changes.py): the search index, the feeds' cache
    and announcements, nginx's feed files, each process's memory of media answers, and where a public
    bucket keeps each file."""
    from .catalogue import search  # noqa: F401
    from .delivery import feed_files, private_objects, recent  # noqa: F401
    from .feed import changes  # noqa: F401


def configure_background(app: Flask) -> None:
    """Threads beside the requests (core/background.py): nginx's media log reader, when nginx reports to us."""
    from .delivery import nginx_log

    nginx_log.init_app(app)


def configure_jobs(app: Flask) -> None:
    """The queue, with the tasks of every capability that has some (each registers its own on import)."""
    from .analytics import counting  # noqa: F401
    from .catalogue import audio_jobs  # noqa: F401
    from .feed import announce  # noqa: F401
    from .imports import background  # noqa: F401
    from .media.storage import check  # noqa: F401

    jobs.init_app(app)


def configure_template_helpers(app: Flask) -> None:
    """Filters and globals the templates use."""
    from .catalogue import languages as versions
    from .catalogue.inputs import SUBSCRIBE_APPS
    from .core import urls
    from .web import embed, sharing

    def hms(seconds: float | None) -> str:
        total = round(seconds or 0)
        h, rest = divmod(total, 3600)
        m, s = divmod(rest, 60)
        return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"

    def clock(seconds: float) -> str:
        """A chapter start an editor can read and type back: 1:23, 1:01:23 or 0:43.25."""
        whole, fraction = divmod(round(seconds, 3), 1)
        text = hms(whole)
        return text + f"{fraction:.3f}".rstrip("0").rstrip(".")[1:] if fraction else text

    app.jinja_env.filters["hms"] = hms
    app.jinja_env.filters["clock"] = clock
    app.jinja_env.globals["urls"] = urls
    app.jinja_env.globals["sharing"] = sharing
    app.jinja_env.globals["embed"] = embed
    app.jinja_env.globals["subscribe_apps"] = SUBSCRIBE_APPS
    app.jinja_env.globals["static_url"] = urls.static_url
    app.jinja_env.globals["versions_of"] = versions.paired_shows
    app.jinja_env.globals["episode_versions_of"] = versions.paired_episodes


def configure_static_files(app: Flask) -> None:
    """The site's own script and styles: addressed with their content's hash, so kept a year."""

    @app.after_request
    def cache_versioned(response: BaseResponse) -> BaseResponse:
        if request.endpoint == "static" and request.args.get("v") and response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def configure_error_handlers(app: Flask) -> None:
    """Every HTTP error and every service error becomes a message.

    JSON for the API and for scripts that ask for it (the upload page's XHR),
    an HTML page for everyone else.
    """

    def respond(response: BaseResponse, code: int, title: str, message: str) -> BaseResponse:
        if code == 503:
            response.headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
        if request.blueprint == "api" or request.accept_mimetypes.best == "application/json":
            response.set_data(app.json.dumps({"error": {"status": code, "title": title, "message": message}}) + "\n")
            response.mimetype = "application/json"
        else:
            response.set_data(
                render_template("errors/error.html", code=code, title=i18n.error_title(code, title), message=message)
            )
            response.mimetype = "text/html"
        response.status_code = code
        return response

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> BaseResponse:
        # Start from the exception's own response: it carries headers such as a 416's Content-Range.
        message = e.description or e.name
        if request.blueprint != "api" and e.description == type(e).description:
            message = i18n.error_message(e.code or 500, message)  # Werkzeug's own words are English
        return respond(e.get_response(), e.code or 500, e.name, message)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(e: DBAPIError | PoolTimeout) -> BaseResponse:
        """The database is down, unreachable, too slow, out of disk, or every connection is busy for longer
        than `database_timeout_seconds`: a 503 to retry, never a 500."""
        db.session.rollback()
        orig = getattr(e, "orig", None)
        detail = str(orig).splitlines()[0] if orig is not None else str(e).splitlines()[0]
        app.logger.error("database unavailable: %s", detail)
        message = (
            "The server's disk is full; nothing can be saved until space is freed."
            if "full" in detail.lower()
            else "The database is not available right now; try again shortly."
        )
        return respond(Response(), 503, "Service Unavailable", message)

    @app.errorhandler(PodcastServiceError)
    def service_error(e: PodcastServiceError) -> BaseResponse:
        if e.http_status >= 500:
            app.logger.error("%s: %s", type(e).__name__, e)
        return respond(Response(headers=e.headers), e.http_status, "Error", e.for_client)
