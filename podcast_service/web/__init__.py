"""The public blueprint: pages for web visitors, the feed and media for podcast apps.

- pages.py: the shows, a show's episodes and search, an episode with its player;
- feed.py: the feeds apps poll; media.py: the enclosures apps download and seek in;
- embed.py: the player other sites frame, and oEmbed; sharing.py: Open Graph and JSON-LD;
- discovery.py: robots.txt, the sitemap, OPML; health.py: /healthz;
- headers.py: the security headers every answer carries;
- transcript_parts.py, waveform.py: the transcript and the waveform an episode page shows.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("web", __name__)

from . import discovery, embed, feed, headers, health, media, pages  # noqa: E402,F401  (registers the routes)
