"""The listener key: who asked, as far as counting needs, and no further.

A download counts once per listener, episode and day, so requests must be
told apart by listener without keeping who the listener is. The key is an
HMAC-SHA256 of the address (an IPv6 address cut to its /64, which a home
network usually shares, as an IPv4 address is shared behind NAT) and the
user agent, under the salt of the UTC day: an HMAC, under the service's
`secret_key`, of a random value kept in the database. Every web process and
machine derives the same key; a copy of the database alone cannot be searched
back to addresses (the secret key is in the configuration, never in the
database); and the random value is deleted when the day is counted: after
that not even the service can tell whose key it was. Counting windows are
therefore UTC calendar days.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import threading
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..core.addresses import network
from ..core.extensions import db
from ..models import AnalyticsSalt

_held: dict[date, bytes] = {}
_lock = threading.Lock()


def salt(day: date) -> bytes:
    """The day's salt: its random part made by whichever process needs it first, then keyed by `secret_key`."""
    with _lock:
        held = _held.get(day)
    if held is not None:
        return held
    value = db.session.scalar(select(AnalyticsSalt.salt).where(AnalyticsSalt.day == day))
    if value is None:
        try:
            db.session.add(AnalyticsSalt(day=day, salt=secrets.token_bytes(32)))
            db.session.commit()
        except IntegrityError:  # another process made it first
            db.session.rollback()
        value = db.session.execute(select(AnalyticsSalt.salt).where(AnalyticsSalt.day == day)).scalar_one()
    value = hmac.new(current_app.config["SECRET_KEY"].encode(), b"listener keys\n" + value, hashlib.sha256).digest()
    with _lock:
        _held.clear()  # only one day is ever needed: the day a request arrives on
        _held[day] = value
    key.cache_clear()  # nor are the keys of another day
    return value


def forget(before: date) -> None:
    """Drop this process's copy of salts older than `before` (their rows are deleted by the rollup)."""
    with _lock:
        for day in [d for d in _held if d < before]:
            del _held[day]
    key.cache_clear()  # a key must not outlive its salt, even in memory


@functools.lru_cache(maxsize=4096)
def key(address: str, user_agent: str, day: date) -> str:
    """Kept for the listener's next requests (an app asks for many ranges), until the day is forgotten."""
    message = f"{network(address)}\n{user_agent}".encode()
    return hmac.new(salt(day), message, hashlib.sha256).hexdigest()[:32]
