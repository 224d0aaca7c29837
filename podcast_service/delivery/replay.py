"""The busiest request answered without Flask: an enclosure that nginx will send.

With `accel_redirect`, the media route's answer to a podcast app is headers
only (nginx sends the bytes, ranges and HEAD included), and it is the same
for every request for that URL until the file or its episode changes. The
first request goes through Flask: lookups, hooks, every header. Its answer
is kept (recent.py: the same few seconds and the same forgetting as the
lookups), and this WSGI middleware answers the next requests for the URL
with it, each recorded for counting as the route records it.

A request the kept answer may not fit goes through Flask: a method other
than GET or HEAD, a query string (a preview key), a cookie (a signed-in
producer's session, which Flask may refresh) or a condition
(If-None-Match, If-Modified-Since: the answer may be a 304), and nginx's
request for a link to send the file alone from (media_links.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.wrappers import Request

from ..analytics import recorder
from .recent import RecentMedia, recent_media

# Set by the media route on an answer that may be replayed: how to record it (None: not counted).
REPLAYABLE = "podcast.replayable"
_NOT_REPLAYABLE = object()
_UNFIT = ("QUERY_STRING", "HTTP_COOKIE", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_X_PODCAST_MEDIA_LINK")


class MediaReplay:
    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.recent = recent_media(app)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if (
            not path.startswith("/media/")
            or environ.get("REQUEST_METHOD") not in ("GET", "HEAD")
            or any(environ.get(name) for name in _UNFIT)
        ):
            return self.wsgi_app(environ, start_response)
        answer = self.recent.answer(path)
        if answer is None:
            return self._through_flask(environ, start_response, path)
        status, headers, recording = answer
        if recording is not None:
            with self.app.app_context():
                recorder.record(Request(environ), **recording)
        start_response(status, list(headers))
        return []

    def _through_flask(self, environ: dict[str, Any], start_response: Callable, path: str) -> Iterable[bytes]:
        generation = RecentMedia.generation  # a change committed meanwhile makes the answer stale at once

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            recording = environ.get(REPLAYABLE, _NOT_REPLAYABLE)
            if (
                recording is not _NOT_REPLAYABLE
                and status.startswith("200 ")
                and not any(name.lower() == "set-cookie" for name, _ in headers)
            ):
                self.recent.keep_answer(path, (status, tuple(headers), recording), generation)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, keep)
