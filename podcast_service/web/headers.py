"""Headers every response carries: what a browser may load, run and frame when it shows one of our pages.

The policy is strict because the pages show what producers typed and what
imported feeds carried: scripts come only from this site's own files (no
inline script, no inline handler, no `eval`), styles from its own sheets,
and nothing is loaded from another host except the object stores that
media URLs redirect to. Pages may not be framed, except the embeddable
player, which exists to be framed by any site.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

from . import bp

_EXTENSION = "podcast_content_security_policy"
FRAMEABLE_ENDPOINTS = frozenset({"web.embed"})


def content_security_policy(app: Flask, *, frameable: bool) -> str:
    """The policy for the app's HTML pages; built once per app (the stores' origins do not change)."""
    policies = app.extensions.setdefault(_EXTENSION, {})
    if frameable not in policies:
        stores = " ".join(origin for store in app.extensions["podcast_stores"] for origin in store.client_origins())
        media = f"'self' {stores}".strip()
        policies[frameable] = "; ".join(
            [
                "default-src 'none'",
                "script-src 'self'",
                "style-src 'self'",
                f"img-src {media} data:",
                f"media-src {media}",
                "connect-src 'self'",
                "form-action 'self'",
                "base-uri 'none'",
                "frame-ancestors *" if frameable else "frame-ancestors 'none'",
            ]
        )
    return policies[frameable]


@bp.after_app_request
def security_headers(response: Response) -> Response:
    """Nothing is to be sniffed as another type; HTML pages get the policy and, unless frameable, no framing."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        frameable = request.endpoint in FRAMEABLE_ENDPOINTS
        response.headers["Content-Security-Policy"] = content_security_policy(current_app, frameable=frameable)
        if not frameable:
            response.headers["X-Frame-Options"] = "DENY"
    return response
