"""gunicorn's settings for production, behind nginx (docs/production.md).

    gunicorn -c gunicorn.conf.py 'podcast_service:create_app()'

Each value says why it is what it is. The address and the pool sizes are the
service's own settings (`bind`, `workers`, `threads`: docs/configuration.md),
read once here with the rest, as the app reads them.
"""

import os
import sys

from gunicorn.glogging import Logger

from podcast_service.core.settings import NO_SECRET_KEY, load_settings
from podcast_service.core.urls import loggable

settings = load_settings()
bind = settings.bind

# Threads, not sync workers: a sync worker is one request at a time, so four listeners
# downloading slowly (or four producers uploading) took every worker and feed polls waited.
# Each thread holds one request; probing a 2 GB upload (20-30 s of CPU) keeps one thread busy
# while the others answer.
worker_class = "gthread"
workers = settings.workers or 2 * (os.cpu_count() or 1) + 1
threads = settings.threads

# Without secret_key each worker signs sessions with its own random key: a sign-in made by one worker is
# refused by the next ("The CSRF session token is missing"), so more than one worker needs it set.
if not settings.secret_key and workers > 1:
    sys.exit(
        f"Error: secret_key is not set, and each of the {workers} workers would sign sessions with its own random "
        "key, so sign-ins would fail at random. Set PODCAST_SECRET_KEY (python -c 'import secrets; "
        "print(secrets.token_hex(32))'), or run one worker (PODCAST_WORKERS=1)."
    )

# With threads, this is how long a worker's main loop may stay silent before the arbiter
# restarts it (a hung process), not how long a request may take: long uploads, probes and
# downloads are not cut at 30 s as the sync worker's default did.
timeout = 120
# A deploy lets running requests finish (an upload being stored, say) before workers stop.
graceful_timeout = 120
# nginx keeps connections to gunicorn open (`keepalive` in its upstream block).
keepalive = 75
# The app is made once, in the arbiter, before the workers are forked: a restarted or added worker serves at
# once instead of importing everything again on a busy machine. Making the app opens no connection and starts
# no thread (each worker starts its own threads in post_worker_init, and its database connections on use).
preload_app = True

# One line per request, to stderr with the service's own log; no client address (listeners are counted with
# a salted key, docs/downloads.md), and no subscriber token or preview key (masked below).
accesslog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms "%(a)s"'


class AccessLogger(Logger):
    """gunicorn's logger, with the secret in a path masked in every form a log format may name."""

    def atoms(self, resp, req, environ, request_time):  # noqa: ANN001, ANN201
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = loggable(atoms["U"] or "")
        atoms["r"] = f"{atoms['m']} {atoms['U']} {atoms['H']}"  # the request line, without its query string
        atoms["q"] = atoms["f"] = "-"
        return atoms


logger_class = AccessLogger


def on_starting(server):  # noqa: ANN001, ANN201
    """No worker runs yet on this machine: every spool in the upload folder was left by a killed one.
    With `analytics_log_file`, make sure the workers can read and free the file nginx reports media requests in."""
    from podcast_service.core import spools
    from podcast_service.delivery import nginx_log

    if not settings.secret_key:
        server.log.warning(NO_SECRET_KEY)
    removed = spools.remove_abandoned(settings.upload_temp_path)
    if removed:
        server.log.info("removed %d abandoned upload spools (%d bytes)", len(removed), sum(s.size for s in removed))
    if settings.analytics_log_file:
        try:
            warnings = nginx_log.prepare(settings.analytics_log_file)
        except OSError as e:
            sys.exit(str(e))
        for warning in warnings:
            server.log.warning(warning)


def post_worker_init(worker):  # noqa: ANN001, ANN201
    """Each worker starts the app's background threads as it boots, not at its first request (nginx's media
    log is read even while no request comes through the service)."""
    from podcast_service.core import background

    if hasattr(worker.wsgi, "extensions"):  # the service's app (bench/media.py also serves a bare one)
        background.start(worker.wsgi)
