"""Subscribers of private shows: personal feed URLs, made, listed and revoked by producers.

A subscriber's token is the secret part of their feed URL and of every
file URL in that feed. As with API tokens, only its SHA-256 is stored and
the URL is shown once; a lost URL is replaced by a new subscriber entry.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from ..catalogue.inputs import require_text
from ..core.errors import Forbidden, Unauthorized
from ..core.extensions import db
from ..models import Show, Subscriber, utcnow
from .service import record_last_use, token_hash


def create_subscriber(show: Show, name: str) -> tuple[Subscriber, str]:
    """A new personal feed for `name` (a person or a group of listeners); returns it and its token."""
    token = secrets.token_urlsafe(24)
    subscriber = Subscriber(
        show=show,
        name=require_text(name, "subscriber name", max_len=100),
        token_hash=token_hash(token),
        prefix=token[:8],
    )
    db.session.add(subscriber)
    db.session.commit()
    return subscriber, token


def revoke_subscriber(subscriber: Subscriber) -> None:
    if subscriber.revoked_at is None:
        subscriber.revoked_at = utcnow()
        db.session.commit()


def subscriber_or_error(token: str) -> Subscriber:
    """The subscriber a URL's token belongs to: 401 for an unknown token, 403 for a revoked one."""
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.token_hash == token_hash(token)))
    if subscriber is None:
        raise Unauthorized("This subscription address is not valid.")
    if subscriber.revoked_at is not None:
        raise Forbidden("This subscription has been cancelled by the show's producers.")
    record_last_use(subscriber)
    return subscriber
