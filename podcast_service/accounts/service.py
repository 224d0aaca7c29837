"""Producer accounts, show membership and API tokens: the rules every entry point shares.

The admin UI, the API and the CLI all create users and tokens through these
functions. Passwords are hashed with scrypt (werkzeug's default); tokens are
random, shown once, and only their SHA-256 is stored, which is enough for a
secret with 256 bits of entropy and lets a lookup be a single indexed query.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import check_password_hash, generate_password_hash

from ..catalogue.inputs import require_text
from ..core.addresses import network
from ..core.errors import Conflict, Forbidden, NotFound, PodcastServiceError, ValidationError
from ..core.extensions import db
from ..core.settings import current_settings
from ..models import (
    ROLES,
    SCOPES,
    ApiToken,
    Episode,
    LoginFailure,
    Show,
    ShowMember,
    Subscriber,
    User,
    UserSession,
    utcnow,
)

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "pst_"
# Sign-in throttling, per window: failures allowed for one account from one client address, from one
# address across accounts, and for one account from anywhere. Past the last, only devices that signed in
# to the account before may still try, so an attacker guessing cannot keep the owner out.
FAILURES_PER_ACCOUNT_AND_CLIENT = 5
FAILURES_PER_CLIENT = 50
FAILURES_PER_ACCOUNT = 100
THROTTLE_WINDOW = timedelta(minutes=15)


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the e-mail is unknown, so a wrong address costs as long as a wrong password (made
    once per process, when first needed: not at every start)."""
    return generate_password_hash("not a password")


class TooManyAttempts(PodcastServiceError):
    http_status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed sign-ins. Try again in {max(1, -(-retry_after // 60))} minutes.")
        self.headers = {"Retry-After": str(retry_after)}


def normalise_email(value: object) -> str:
    email = require_text(value, "e-mail address").lower()
    local, _at, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise ValidationError(_("%(email)s is not an e-mail address", email=repr(email)))
    return email


def check_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(_("a password needs at least %(least)s characters", least=MIN_PASSWORD_LENGTH))
    if len(password) > 1024:
        raise ValidationError(_("a password may have at most 1024 characters"))
    return password


def create_user(email: str, password: str, *, admin: bool = False) -> User:
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(_("there is already a user %(email)s", email=email))
    user = User(email=email, password_hash=generate_password_hash(check_password(password)), is_admin=admin)
    db.session.add(user)
    db.session.flush()
    # Roles that owners gave this address before the account existed.
    db.session.execute(
        update(ShowMember).where(ShowMember.email == email, ShowMember.user_id.is_(None)).values(user_id=user.id)
    )
    db.session.commit()
    return user


def find_user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise ValidationError(f"there is no user {email}")
    return user


def _subject(kind: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _check_throttle(subjects: dict[str, int]) -> None:
    since = utcnow() - THROTTLE_WINDOW
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < since))
    for subject, limit in subjects.items():
        failures = db.session.scalars(
            select(LoginFailure.at)
            .where(LoginFailure.subject == subject, LoginFailure.at >= since)
            .order_by(LoginFailure.at)
        ).all()
        if len(failures) >= limit:
            db.session.commit()
            oldest = failures[-limit]
            raise TooManyAttempts(int((oldest + THROTTLE_WINDOW - utcnow()).total_seconds()) + 1)


def device_mark(email: str) -> str:
    """What a device that signed in to this account keeps (signed, in a cookie) to be known next time."""
    return _subject("device", (email or "").strip().lower())


def authenticate(email: str, password: str, client: str, *, known_device: bool = False) -> User:
    """The user these credentials belong to; every failure counts towards the throttle.

    `client` is the caller's address (the proxy's trusted X-Forwarded-For), an IPv6 one counted by its /64.
    The message never says whether the address exists.
    """
    email = (email or "").strip().lower()
    client = network(client) or client
    subjects = {
        _subject("pair", f"{email}|{client}"): FAILURES_PER_ACCOUNT_AND_CLIENT,
        _subject("client", client): FAILURES_PER_CLIENT,
    }
    account = {_subject("email", email): FAILURES_PER_ACCOUNT}
    _check_throttle(subjects if known_device else {**subjects, **account})
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    if user is not None and check_password_hash(user.password_hash, password or ""):
        return user
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
    db.session.add_all(LoginFailure(subject=s) for s in (*subjects, *account))
    db.session.commit()
    raise ValidationError(_("The e-mail address or the password is wrong."))


def change_password(user: User, current: str, new: str, *, keep_tokens: bool = False) -> None:
    """From the account page: this session stays, every other one ends, and so do the user's API tokens
    unless they ask to keep them."""
    if not check_password_hash(user.password_hash, current or ""):
        raise ValidationError(_("the current password is wrong"))
    set_password(user, new, keep_session=user.session_key, keep_tokens=keep_tokens)


def set_password(user: User, new: str, *, keep_session: str | None = None, keep_tokens: bool = False) -> None:
    """Set the password and end every session begun with the old one (but `keep_session`'s, the one
    that changed it) and, unless `keep_tokens`, revoke every API token: a password changed because it
    leaked must not leave whoever had it a way in."""
    user.password_hash = generate_password_hash(check_password(new))
    ending = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_session:
        ending = ending.where(UserSession.key_hash != token_hash(keep_session))
    db.session.execute(ending)
    if not keep_tokens:
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    db.session.commit()


def start_session(user: User) -> str:
    """A new server-side session for a sign-in; its key goes into the signed cookie. Sessions of anyone's
    that have expired are deleted meanwhile."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(delete(UserSession).where(~_live(now)))
    db.session.add(UserSession(user_id=user.id, key_hash=token_hash(key), created_at=now, last_seen_at=now))
    db.session.commit()
    user.session_key = key
    return key


def _live(now: datetime) -> ColumnElement[bool]:
    """Sessions used within `session_idle_hours` and begun within `session_max_days`."""
    settings = current_settings()
    return (UserSession.created_at >= now - timedelta(days=settings.session_max_days)) & (
        UserSession.last_seen_at >= now - timedelta(hours=settings.session_idle_hours)
    )


def session_user(key: str) -> User | None:
    """The user of a live session, or None once it has ended: logged out, ended by a password change,
    unused for `session_idle_hours` or begun more than `session_max_days` ago."""
    if not key:
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.key_hash == token_hash(key), _live(utcnow())))
    if row is None:
        return None  # an expired row goes with the next sign-in's sweep
    record_last_use(row)
    row.user.session_key = key
    return row.user


def end_session(key: str | None) -> None:
    if key:
        db.session.execute(delete(UserSession).where(UserSession.key_hash == token_hash(key)))
        db.session.commit()


def create_token(user: User, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """A new token row and the token itself, which is never stored and cannot be shown again."""
    name = require_text(name, "token name", max_len=100)
    unknown = set(scopes) - set(SCOPES)
    if not scopes or unknown:
        raise ValidationError(_("token scopes must be one or more of %(choices)s", choices=", ".join(SCOPES)))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        token_hash=token_hash(secret),
        prefix=secret[:12],
        scopes=[s for s in SCOPES if s in scopes],
    )
    db.session.add(token)
    db.session.commit()
    return token, secret


def token_hash(secret: str) -> str:
    """How every bearer secret (API tokens, subscribers' feed tokens) is kept: its SHA-256 only."""
    return hashlib.sha256(secret.encode()).hexdigest()


def bearer_secret(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None for anything else."""
    scheme, _space, secret = (authorization or "").partition(" ")
    return (secret.strip() or None) if scheme.lower() == "bearer" else None


def token_for(secret: str) -> ApiToken | None:
    """The live token with this secret, its last use recorded; None if unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    record_last_use(token)
    return token


# How coarsely the last use of a token or a subscriber's feed is recorded: a write per call would
# make every API read and feed poll a write, contending for the database (and failing on a full disk).
LAST_USE_RESOLUTION = timedelta(minutes=1)


def record_last_use(row: ApiToken | Subscriber | UserSession) -> None:
    """Note that a token, subscriber URL or session was used, at most once per LAST_USE_RESOLUTION.

    Best effort: the request it belongs to goes on even when the write fails
    (a full disk, a busy database).
    """
    column = "last_seen_at" if isinstance(row, UserSession) else "last_used_at"
    now = utcnow()
    last = getattr(row, column)
    if last is not None and now - last < LAST_USE_RESOLUTION:
        return
    setattr(row, column, now)
    try:
        db.session.commit()
    except SQLAlchemyError as e:
        db.session.rollback()
        log.warning("could not record the last use of %s %s: %s", type(row).__name__, row.id, str(e).splitlines()[0])


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()


def set_member(show: Show, user: User, role: str) -> None:
    """Give `user` a role on `show` (replacing any earlier one)."""
    add_member(show, user.email, role)


def add_member(show: Show, email: str, role: str) -> ShowMember:
    """Give the address a role on `show`, now if it has an account, else as soon as one is made with it.

    Both cases look the same to the owner who asks.
    """
    if role not in ROLES:
        raise ValidationError(_("role must be one of %(choices)s", choices=", ".join(ROLES)))
    email = normalise_email(email)
    member = db.session.scalar(select(ShowMember).where(ShowMember.show_id == show.id, ShowMember.email == email))
    if member is None:
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        member = ShowMember(show=show, email=email, user_id=user_id, role=role)
        db.session.add(member)
    else:
        member.role = role
    db.session.commit()
    return member


def require_role(user: User, show: Show, *, owner: bool = False) -> None:
    """Refuse unless `user` may edit `show` (with owner=True: may manage it).

    To someone with no role on it the show does not exist: the answer is the
    same as for a slug nobody uses, so probing tells which shows are there.
    """
    role = user.role_in(show)
    if role is None:
        raise _no_show(show.slug)
    if owner and role != "owner":
        raise Forbidden(_("you are not an owner of the show %(slug)s", slug=repr(show.slug)))


def visible_shows_query(user: User) -> Select:
    """The shows `user` may edit, by title."""
    query = select(Show).order_by(func.lower(Show.title), Show.id)
    if not user.is_admin:
        query = query.join(ShowMember).where(ShowMember.user_id == user.id)
    return query


def visible_shows(user: User) -> list[Show]:
    return list(db.session.scalars(visible_shows_query(user)))


def show_by_slug(slug: str) -> Show:
    show = db.session.scalar(select(Show).where(Show.slug == slug))
    if show is None:
        raise _no_show(slug)
    return show


def _no_show(slug: str) -> NotFound:
    return NotFound(_("there is no show %(slug)s", slug=repr(slug)))


def producer_show(user: User, slug: str, *, owner: bool = False) -> Show:
    """The show with this slug, if `user` may edit it (with owner=True: manage it)."""
    show = show_by_slug(slug)
    require_role(user, show, owner=owner)
    return show


def producer_episode(show: Show, episode_id: int) -> Episode:
    """An episode of a show the producer may edit, whatever its status."""
    episode = db.session.get(Episode, episode_id)
    if episode is None or episode.show_id != show.id:
        raise NotFound(_("the show %(slug)s has no episode %(number)s", slug=repr(show.slug), number=episode_id))
    return episode
