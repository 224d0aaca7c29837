"""The public blueprint: pages for web visitors, the feed and media for podcast apps."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("web", __name__)

from . import discovery, embed, feed, headers, health, media, pages  # noqa: E402,F401  (registers the routes)
