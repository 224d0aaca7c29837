"""Who may do what: sign-in, sessions, CSRF, throttling, and a walk over every admin and API route."""

from __future__ import annotations

import re

import pytest
from fixtures.app import PASSWORD, csrf_token, sign_in

from podcast_service.accounts import service as accounts
from podcast_service.core.extensions import db
from podcast_service.models import LoginFailure

SAMPLE_VALUES = {
    "slug": "test-show",
    "episode_id": 1,
    "token_id": 1,
    "member_id": 1,
    "alternate_id": 1,
    "subscriber_id": 1,
    "import_id": 1,
}


def _url(rule) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(SAMPLE_VALUES[m.group(1)]), rule.rule)


def test_every_admin_and_write_api_route_refuses_anonymous_requests(app, client, make_episode):
    """Walks the URL map, so a route added later without protection fails here."""
    make_episode()
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("admin.", "api.")) or rule.endpoint in ("admin.login", "api.openapi"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            r = client.open(_url(rule), method=method)
            if rule.endpoint.startswith("api."):
                assert r.status_code == 401, (method, rule.rule)
                assert r.headers["WWW-Authenticate"].startswith("Bearer")
            elif method == "GET":
                assert r.status_code == 302 and "/admin/login" in r.location, (method, rule.rule)
            else:
                assert r.status_code == 401, (method, rule.rule)
            checked += 1
    assert checked >= 25


def test_create_user_cli_asks_for_the_password_or_reads_stdin(runner, client):
    r = runner.invoke(
        args=["create-user", "Ed@Example.org", "--role", "admin"], input="a long password\na long password\n"
    )
    assert r.exit_code == 0, r.output
    assert "Password" in r.output and "a long password" not in r.output
    r = runner.invoke(args=["create-user", "pat@example.org", "--password-stdin"], input="another password\n")
    assert r.exit_code == 0
    r = runner.invoke(args=["create-user", "pat@example.org", "--password-stdin"], input="another password\n")
    assert r.exit_code == 1 and "already a user" in r.output
    r = runner.invoke(args=["create-user", "short@example.org", "--password-stdin"], input="short\n")
    assert r.exit_code == 1 and "at least 10 characters" in r.output and "Traceback" not in r.output
    assert sign_in(client, "ed@example.org", "a long password").status_code == 302
    user = accounts.find_user("ed@example.org")
    assert user.is_admin and user.password_hash.startswith("scrypt:")


def test_sign_in_sign_out(client, admin_user):
    r = sign_in(client, password="wrong password")
    assert r.status_code == 422 and "wrong" in r.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    r = sign_in(client)
    assert r.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert "HttpOnly" in r.headers["Set-Cookie"] and "Secure" in r.headers["Set-Cookie"]
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert client.get("/admin/").status_code == 302


def test_forms_without_a_csrf_token_are_refused(signed_in):
    r = signed_in.post("/admin/tokens", data={"name": "x", "scopes": "read"})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
    r = signed_in.post("/admin/login", data={"email": "admin@example.org", "password": PASSWORD})
    assert r.status_code == 400


def test_sign_in_is_throttled_after_repeated_failures(client, admin_user):
    for _ in range(accounts.FAILURES_PER_ACCOUNT_AND_CLIENT):
        assert sign_in(client, password="not the password").status_code == 422
    r = sign_in(client)  # even the right password waits now
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in r.get_data(as_text=True)
    # What is kept is keyed hashes, not the address.
    assert all("admin@example.org" not in f.subject for f in db.session.query(LoginFailure))


def test_password_change_ends_other_sessions(app, signed_in, admin_user):
    other = app.test_client()
    assert sign_in(other).status_code == 302
    token = csrf_token(signed_in, "/admin/account")
    r = signed_in.post(
        "/admin/account",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a brand new password",
            "confirm_password": "a brand new password",
        },
    )
    assert r.status_code == 302
    assert signed_in.get("/admin/").status_code == 200
    assert other.get("/admin/").status_code == 302
    assert sign_in(app.test_client(), password="a brand new password").status_code == 302


def test_an_editor_cannot_manage_the_show_or_see_others(app, client, show, make_episode):
    editor = accounts.create_user("editor@example.org", PASSWORD)
    accounts.set_member(show, editor, "editor")
    episode = make_episode()
    assert sign_in(client, "editor@example.org").status_code == 302
    assert client.get(f"/admin/shows/{show.slug}/episodes/{episode.id}/").status_code == 200
    assert client.get(f"/admin/shows/{show.slug}/settings").status_code == 403
    assert client.get("/admin/users").status_code == 403
    accounts.set_member(show, editor, "owner")
    assert client.get(f"/admin/shows/{show.slug}/settings").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/admin/tokens"])
def test_sign_in_only_redirects_within_the_site(client, admin_user, target):
    r = client.post(
        "/admin/login",
        data={"email": "admin@example.org", "password": PASSWORD, "next": target, "csrf_token": csrf_token(client)},
    )
    assert r.location == (target if target.startswith("/admin") else "/admin/")
