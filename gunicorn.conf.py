"""gunicorn's settings for production, behind nginx (README: running in production).

    gunicorn -c gunicorn.conf.py 'podcast_service:create_app()'

Each value says why it is what it is. PODCAST_BIND, PODCAST_WORKERS and
PODCAST_THREADS override the address and the pool sizes.
"""

import os
import sys

bind = os.environ.get("PODCAST_BIND", "127.0.0.1:8000")

# Threads, not sync workers: a sync worker is one request at a time, so four listeners
# downloading slowly (or four producers uploading) took every worker and feed polls waited.
# Each thread holds one request; probing a 2 GB upload (20-30 s of CPU) keeps one thread busy
# while the others answer.
worker_class = "gthread"
workers = int(os.environ.get("PODCAST_WORKERS", 2 * (os.cpu_count() or 1) + 1))
threads = int(os.environ.get("PODCAST_THREADS", 16))

# With threads, this is how long a worker's main loop may stay silent before the arbiter
# restarts it (a hung process), not how long a request may take: long uploads, probes and
# downloads are not cut at 30 s as the sync worker's default did.
timeout = 120
# A deploy lets running requests finish (an upload being stored, say) before workers stop.
graceful_timeout = 120
# nginx keeps connections to gunicorn open (`keepalive` in its upstream block).
keepalive = 75

# One line per request, to stderr with the service's own log; no client address (listeners are counted with
# a salted key, README: Downloads).
accesslog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms "%(a)s"'


# nginx's log of the media requests it answers alone (analytics_log_file), checked before the fork.
media_log = None


def on_starting(server):  # noqa: ANN001, ANN201
    """No worker runs yet on this machine: every spool in the upload folder was left by a killed one.
    With `analytics_log_file`, make sure the workers can read and free the file nginx reports media requests in."""
    global media_log
    from podcast_service.core import spools
    from podcast_service.core.settings import load_settings
    from podcast_service.delivery import nginx_log

    settings = load_settings()
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
        media_log = settings.analytics_log_file


def post_worker_init(worker):  # noqa: ANN001, ANN201
    """A worker reads nginx's media log while no other does (podcast_service/delivery/nginx_log.py)."""
    if media_log is not None:
        from podcast_service.delivery import nginx_log

        nginx_log.start(worker.wsgi, media_log)
