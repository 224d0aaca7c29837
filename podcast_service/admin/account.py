"""Signing in and out, the password, API tokens, and (for admins) the users."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from ..accounts import service as accounts
from ..core.errors import Forbidden, NotFound, PodcastServiceError, ValidationError
from ..core.extensions import db
from ..core.i18n import LANGUAGES
from ..models import SCOPES, ApiToken, User
from . import bp


def _safe_next(target: str | None) -> str:
    """Only a path on this site, so the sign-in page cannot be used to send people elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.dashboard")


# A device that signed in keeps a signed list of the accounts it signed in to, so the account-wide
# throttle (accounts/service.py) never locks it out.
DEVICE_COOKIE = "known_device"
DEVICE_COOKIE_DAYS = 365


def _device_marks() -> list[str]:
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="known-device")
    try:
        marks = serializer.loads(request.cookies.get(DEVICE_COOKIE, ""))
    except BadSignature:
        return []
    return marks if isinstance(marks, list) else []


def _remember_device(response: BaseResponse, email: str) -> None:
    marks = [m for m in _device_marks() if m != accounts.device_mark(email)][-9:] + [accounts.device_mark(email)]
    value = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="known-device").dumps(marks)
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_COOKIE_DAYS * 86400,
        path=url_for("admin.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | tuple[str, int] | str:
    if request.method == "GET":
        return render_template("admin/login.html", next=request.args.get("next", ""))
    email = request.form.get("email", "")
    try:
        user = accounts.authenticate(
            email,
            request.form.get("password", ""),
            request.remote_addr or "",
            known_device=accounts.device_mark(email) in _device_marks(),
        )
    except PodcastServiceError as e:
        page = render_template(
            "admin/login.html",
            error=e.for_client,
            email=request.form.get("email", ""),
            next=request.form.get("next", ""),
        )
        return Response(page, status=e.http_status, headers=e.headers)
    # Nothing from before the sign-in (its CSRF token, say) carries over into the signed-in session.
    session.clear()
    accounts.start_session(user)
    login_user(user)
    response = redirect(_safe_next(request.form.get("next")))
    _remember_device(response, user.email)
    return response


@bp.post("/logout")
def logout() -> BaseResponse:
    """Ends the session on the server too: a copy of the cookie is worth nothing afterwards."""
    accounts.end_session(current_user.session_key)
    logout_user()
    session.clear()
    return redirect(url_for("admin.login"))


@bp.route("/account", methods=["GET", "POST"])
def account() -> BaseResponse | tuple[str, int] | str:
    if request.method == "GET":
        return render_template("admin/account.html")
    if request.form.get("new_password") != request.form.get("confirm_password"):
        return render_template("admin/account.html", error="The new passwords differ."), 422
    try:
        keep_tokens = request.form.get("keep_tokens") == "1"
        accounts.change_password(
            current_user,
            request.form.get("current_password", ""),
            request.form.get("new_password", ""),
            keep_tokens=keep_tokens,
        )
    except PodcastServiceError as e:
        return render_template("admin/account.html", error=e.for_client), e.http_status
    if keep_tokens:
        flash(gettext("Your password is changed. Other sessions have been signed out."))
    else:
        flash(gettext("Your password is changed. Other sessions have been signed out and your API tokens revoked."))
    return redirect(url_for("admin.account"))


@bp.post("/account/language")
def account_language() -> BaseResponse:
    """The admin's language for this producer: one of the site's, or empty for the browser's."""
    chosen = request.form.get("language", "")
    if chosen and chosen not in LANGUAGES:
        raise ValidationError(gettext("Choose one of the languages offered."))
    current_user.language = chosen or None
    db.session.commit()
    flash(gettext("Language saved."))
    return redirect(url_for("admin.account"))


@bp.route("/tokens", methods=["GET", "POST"])
def tokens() -> tuple[str, int] | str:
    new_secret = error = None
    status = 200
    if request.method == "POST":
        try:
            _token, new_secret = accounts.create_token(
                current_user, request.form.get("name", ""), request.form.getlist("scopes")
            )
        except PodcastServiceError as e:
            error, status = e.for_client, e.http_status
    return render_template(
        "admin/tokens.html", tokens=current_user.tokens, scopes=SCOPES, new_secret=new_secret, error=error
    ), status


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> BaseResponse:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        raise NotFound(gettext("there is no such token"))
    accounts.revoke_token(token)
    flash(gettext("Token %(name)r is revoked.", name=token.name))
    return redirect(url_for("admin.tokens"))


@bp.route("/users", methods=["GET", "POST"])
def users() -> tuple[str, int] | str:
    if not current_user.is_admin:
        raise Forbidden(gettext("only an admin can manage users"))
    error, status = None, 200
    if request.method == "POST":
        try:
            user = accounts.create_user(
                request.form.get("email", ""),
                request.form.get("password", ""),
                admin=request.form.get("admin") == "true",
            )
            flash(gettext("User %(email)s created.", email=user.email))
        except PodcastServiceError as e:
            error, status = e.for_client, e.http_status
    return render_template(
        "admin/users.html", users=db.session.scalars(select(User).order_by(User.email)).all(), error=error
    ), status
