"""Threads an app runs beside its requests, started the same way under any server.

A capability registers a starter with `register(app, start)` when the app is
made; nothing starts then (making an app has no side effects, and a CLI
command needs no threads). Each process starts them once: at its first
request, or earlier when the server says it serves (`start(app)`, which
gunicorn.conf.py calls after each worker's fork). A forked process starts its
own: threads do not survive a fork.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from flask import Flask

_lock = threading.Lock()


def register(app: Flask, starter: Callable[[], object]) -> None:
    """Have `starter` run once in each process that serves `app`."""
    starters = app.extensions.get("podcast_background")
    if starters is None:
        starters = app.extensions["podcast_background"] = []
        app.before_request(lambda: start(app))
    starters.append(starter)


def start(app: Flask) -> None:
    """Start the app's background threads in this process, unless they run already."""
    if app.extensions.get("podcast_background_pid") == os.getpid():
        return
    with _lock:
        if app.extensions.get("podcast_background_pid") == os.getpid():
            return
        app.extensions["podcast_background_pid"] = os.getpid()
        for starter in app.extensions.get("podcast_background", ()):
            starter()
