"""Attacks one producer could make on another's show, or on a private show's subscribers, made as the
attacker would: over HTTP with their own API token or session, or with the CLI."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fixtures.app import (
    AUDIO,
    BASE_URL,
    PASSWORD,
    RequestClient,
    csrf_token,
    dispose_app,
    fetch,
    migrate,
    multipart,
    sign_in,
)
from lxml import etree

from podcast_service import create_app
from podcast_service.accounts import service as accounts
from podcast_service.catalogue import coercion as fields
from podcast_service.catalogue.inputs import ShowInput
from podcast_service.catalogue.service import save_show
from podcast_service.core.extensions import db
from podcast_service.models import CachedFeed

PODCAST = "{https://podcastindex.org/namespace/1.0}"
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
DE_CROO = {
    "name": "Alexander De Croo",
    "role": "guest",
    "title": "Prime Minister of Belgium",
    "href": "https://www.premier.be/",
    "img": "https://www.premier.be/decroo.jpg",
}


@pytest.fixture
def rival(app, make_token):
    """A producer who owns a show of their own and has no role on test-show."""
    user = accounts.create_user("rival@example.org", "a long rival password")
    other = save_show(
        ShowInput(
            slug="rival-show",
            title="Rival",
            description="d",
            author="R",
            owner_name="R",
            owner_email="r@example.org",
            categories=["Technology"],
        )
    )
    accounts.set_member(other, user, "owner")
    return make_token(user)


def upload(client, headers, show_slug: str, **form) -> dict:
    body = multipart(audio=((AUDIO / "cbr.mp3").read_bytes(), "ep.mp3"), status="published", **form)
    r = client.post(f"/api/v1/shows/{show_slug}/episodes", headers=headers, **body)
    assert r.status_code == 201, r.json
    return r.json


def feed_people(client, path: str = "/shows/test-show/feed.xml") -> list[dict]:
    root = etree.fromstring(client.get(path).data)
    return [dict(p.attrib, name=p.text) for p in root.iter(f"{PODCAST}person")]


def test_crediting_the_same_name_on_another_show_changes_nothing_here(client, show, admin_headers, rival):
    import json

    mine = upload(client, admin_headers, "test-show", people=json.dumps([DE_CROO]))
    page = f"/shows/test-show/{mine['slug']}/"
    evil = dict(DE_CROO, href="https://evil.example/", img="https://evil.example/x.jpg")
    upload(client, rival, "rival-show", people=json.dumps([evil]))

    assert feed_people(client) == [
        {"role": "guest", "group": "cast", "href": DE_CROO["href"], "img": DE_CROO["img"], "name": DE_CROO["name"]}
    ]
    assert "evil.example" not in client.get(page).text

    # The owner clears the picture: cleared, not kept from before.
    cleared = dict(DE_CROO, img="")
    r = client.patch(
        f"/api/v1/shows/test-show/episodes/{mine['id']}", json={"people": [cleared]}, headers=admin_headers
    )
    assert r.status_code == 200 and r.json["people"][0]["img"] is None
    assert "img" not in feed_people(client)[0]


def test_another_show_producer_cannot_even_see_the_show(client, show, rival, make_episode):
    episode = make_episode()
    for method, path in [
        ("GET", "/api/v1/shows/test-show"),
        ("PATCH", "/api/v1/shows/test-show"),
        ("GET", f"/api/v1/shows/test-show/episodes/{episode.id}"),
        ("POST", f"/api/v1/shows/test-show/episodes/{episode.id}/audio/process"),
        ("DELETE", f"/api/v1/shows/test-show/episodes/{episode.id}"),
    ]:
        r = client.open(path, method=method, headers=rival, json={})
        assert r.status_code == 404, (method, path, r.status_code)
        unknown = client.open(path.replace("test-show", "no-such-show"), method=method, headers=rival, json={})
        assert r.json["error"]["message"] == unknown.json["error"]["message"].replace("no-such-show", "test-show")


def test_saving_an_episode_with_people_marks_only_its_own_show_stale(client, show, admin_headers, rival):
    upload(client, admin_headers, "test-show", people='[{"name": "Ann"}]')
    client.get("/shows/test-show/feed.xml")
    mine = db.session.get(CachedFeed, show.id)
    generation = mine.generation
    upload(client, rival, "rival-show", people='[{"name": "Ann"}]')
    db.session.expire_all()
    assert db.session.get(CachedFeed, show.id).generation == generation
    assert not db.session.get(CachedFeed, show.id).stale


@pytest.fixture
def private_show(show, make_episode):
    make_episode(title="Members only")
    save_show(replace(fields.show_input(show), private=True))
    return show


def test_producer_text_cannot_carry_a_subscriber_token_elsewhere(client, private_show, admin_headers):
    """Everything a producer can write goes into notes and a person's URLs, including the text the
    service once used as its token placeholder; the token appears only in the service's own URLs."""
    bait = "https://evil.example/collect/subscriber-token-placeholder"
    slot = db.session.get(CachedFeed, private_show.id)
    r = client.patch(
        "/api/v1/shows/test-show/episodes/1",
        headers=admin_headers,
        json={
            "notes": f"[listen]({bait}) {bait}",
            "summary": bait,
            "people": [{"name": "Eve", "href": bait, "img": bait + ".jpg"}],
        },
    )
    assert r.status_code == 200, r.json
    r = client.post("/api/v1/shows/test-show/subscribers", json={"name": "Alice"}, headers=admin_headers)
    token = r.json["feed_url"].split("/")[-2]

    for encoding in ("identity", "gzip"):
        feed = client.get(f"/subscriptions/{token}/feed.xml", headers={"Accept-Encoding": encoding})
        assert feed.status_code == 200
        body = feed.get_data()  # the test client decodes nothing: gunzip by hand
        if encoding == "gzip":
            import gzip

            body = gzip.decompress(body)
        text = body.decode()
        assert "evil.example" in text  # the producer's text is there...
        assert f"evil.example/collect/{token}" not in text  # ...without the token
        # Every occurrence of the token is inside a URL of the service.
        own = text.count(f"{BASE_URL}/subscriptions/{token}/")
        assert own >= 2 and text.count(token) == own
    assert slot is None or slot.token_slot not in text


def test_a_private_feed_says_block_in_both_vocabularies(client, private_show, admin_headers):
    r = client.post("/api/v1/shows/test-show/subscribers", json={"name": "Alice"}, headers=admin_headers)
    channel = etree.fromstring(client.get(r.json["feed_url"].removeprefix(BASE_URL)).data).find("channel")
    assert channel.findtext(f"{ITUNES}block") == "Yes"
    assert channel.findtext(f"{PODCAST}block") == "yes"


def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_logout_ends_the_session_on_the_server(app, signed_in):
    stolen = _cookie(signed_in)
    signed_in.post("/admin/logout", data={"csrf_token": csrf_token(signed_in, "/admin/")})
    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="localhost")
    assert thief.get("/admin/").status_code == 302
    # Nor can the copied cookie mint an API token.
    r = thief.post("/admin/tokens", data={"name": "mine", "scopes": "write"})
    assert r.status_code == 401 and "pst_" not in r.text


def test_a_copied_session_cookie_ends_when_idle_and_at_its_absolute_limit(app, client, admin_user):
    settings = app.config["PODCAST"]
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        assert sign_in(client).status_code == 302
        stolen = _cookie(client)
        clock.shift(timedelta(hours=settings.session_idle_hours) - timedelta(minutes=5))
        assert client.get("/admin/").status_code == 200  # used within the idle time: it lives on
        clock.shift(timedelta(hours=settings.session_idle_hours) + timedelta(minutes=5))
        thief = app.test_client()
        thief.set_cookie("session", stolen, domain="localhost")
        assert thief.get("/admin/").status_code == 302  # idle too long: over, for everyone holding the cookie
        assert client.get("/admin/").status_code == 302

        # Used every few hours, a session still ends `session_max_days` after its sign-in.
        assert sign_in(client).status_code == 302
        for _ in range(settings.session_max_days * 24 // 12 - 1):
            clock.shift(timedelta(hours=12))
            assert client.get("/admin/").status_code == 200
        clock.shift(timedelta(hours=13))
        assert client.get("/admin/").status_code == 302


def test_a_password_change_revokes_api_tokens_unless_kept(app, signed_in, make_token, admin_user):
    headers = make_token(admin_user)
    assert signed_in.get("/api/v1/shows", headers=headers).status_code == 200

    def change(old: str, new: str, **extra: str):
        token = csrf_token(signed_in, "/admin/account")
        form = {"current_password": old, "new_password": new, "confirm_password": new, "csrf_token": token}
        return signed_in.post("/admin/account", data={**form, **extra}, follow_redirects=True)

    kept = change(PASSWORD, "a second long password", keep_tokens="1")
    assert kept.status_code == 200 and "API tokens revoked" not in kept.text
    assert signed_in.get("/api/v1/shows", headers=headers).status_code == 200
    changed = change("a second long password", "a third long password")
    assert "API tokens revoked" in changed.text
    r = signed_in.get("/api/v1/shows", headers=headers)
    assert r.status_code == 401
    assert signed_in.get("/admin/").status_code == 200  # the session that changed it stays


def test_nothing_from_before_sign_in_survives_it(client, admin_user):
    before = csrf_token(client)
    assert sign_in(client).status_code == 302
    r = client.post("/admin/tokens", data={"name": "x", "scopes": "read", "csrf_token": before})
    assert r.status_code == 400 and "CSRF" in r.text


def test_adding_a_member_does_not_tell_which_addresses_have_accounts(app, client, show):
    owner = accounts.create_user("owner@example.org", "an owner's password")
    accounts.set_member(show, owner, "owner")
    accounts.create_user("known@example.org", "a known password")
    assert sign_in(client, "owner@example.org", "an owner's password").status_code == 302
    answers = []
    for email in ("known@example.org", "stranger@example.org"):
        r = client.post(
            "/admin/shows/test-show/members",
            data={
                "email": email,
                "role": "editor",
                "csrf_token": csrf_token(client, "/admin/shows/test-show/settings"),
            },
            follow_redirects=True,
        )
        flash = re.search(r'<p class="flash" role="status">(.*?)</p>', r.text).group(1)
        answers.append((r.status_code, flash.replace(email, "ADDRESS")))
        assert f"<td>{email}</td><td>editor</td>" in r.text
    assert answers[0] == answers[1]
    # The stranger's role begins with the account an admin later makes for the address.
    stranger = accounts.create_user("stranger@example.org", "a stranger's password")
    assert stranger.role_in(show) == "editor"


def test_control_characters_never_reach_storage_through_any_entry_point(client, show, admin_headers, tmp_path):
    from mutagen.id3 import ID3, TIT2

    tagged = tmp_path / "tagged.mp3"
    tagged.write_bytes((AUDIO / "cbr.mp3").read_bytes())
    tags = ID3()
    tags.add(TIT2(encoding=3, text="Shaping\x01 Belgium\x1b's digital future"))
    tags.save(tagged)
    body = multipart(
        audio=(tagged.read_bytes(), "tagged.mp3"),
        status="published",
        summary="A\x01B",
        people='[{"name": "Ann\\u0001", "href": "https://example.org/\\u0001ann"}]',
    )
    r = client.post("/api/v1/shows/test-show/episodes", headers=admin_headers, **body)
    assert r.status_code == 201, r.json
    assert r.json["title"] == "Shaping Belgium's digital future"
    assert r.json["summary"] == "AB" and r.json["people"][0]["name"] == "Ann"
    r = client.patch("/api/v1/shows/test-show", headers=admin_headers, json={"description": "Show\ufffe\x02 notes"})
    assert r.status_code == 200 and r.json["description"] == "Show notes"
    assert client.get("/shows/test-show/feed.xml").status_code == 200


def test_a_row_with_control_characters_cannot_take_the_feed_down(client, show, make_episode):
    """As an older version, or a hand-made fix in the database, could have left it."""
    from sqlalchemy import text

    episode = make_episode(title="Fine", chapters=[], people=[])
    bad = "Bad\x01title\x0b"
    db.session.execute(
        text("UPDATE episodes SET title = :a, summary = :b, notes_html = :c WHERE id = :id"),
        {"a": bad, "b": bad, "c": bad, "id": episode.id},
    )
    db.session.execute(text("UPDATE shows SET description = :a, author = :b"), {"a": "Bad\x01show", "b": "Bad\x01show"})
    db.session.execute(
        text(
            'INSERT INTO credits (episode_id, name, href, img, role, "group", position) '
            "VALUES (:id, :t, :u, :u, 'guest', 'cast', 0)"
        ),
        {"id": episode.id, "t": "Eve\x01", "u": "https://example.org/\x01eve"},
    )
    db.session.commit()
    r = client.get("/shows/test-show/feed.xml")
    assert r.status_code == 200
    root = etree.fromstring(r.data)
    assert root.findtext("channel/item/title") == "Badtitle"
    assert root.findtext("channel/description") == "Badshow"
    assert root.find(f"channel/item/{PODCAST}person").get("href") == "https://example.org/eve"
    assert client.get(f"/shows/test-show/{episode.slug}/").status_code == 200


@pytest.fixture
def proxied(app_config):
    """The app behind one reverse proxy, as docs/production.md sets it up."""
    app = create_app({**app_config, "trusted_proxies": 1})
    app.test_client_class = RequestClient
    with app.app_context():
        migrate(app)
        accounts.create_user("admin@example.org", PASSWORD, admin=True)
        yield app
        db.session.remove()
        dispose_app(app)


def _sign_in_from(client, address: str, password: str):
    token = csrf_token(client)
    return client.post(
        "/admin/login",
        data={"email": "admin@example.org", "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": address},
    )


def test_an_attacker_behind_the_proxy_cannot_lock_the_owner_out(proxied, monkeypatch):
    monkeypatch.setattr(accounts, "FAILURES_PER_ACCOUNT", 12)
    owner = proxied.test_client()
    assert _sign_in_from(owner, "198.51.100.7", PASSWORD).status_code == 302  # the owner's usual device
    owner.post("/admin/logout", data={"csrf_token": csrf_token(owner, "/admin/")})

    attacker = proxied.test_client()
    for _ in range(accounts.FAILURES_PER_ACCOUNT_AND_CLIENT):
        assert _sign_in_from(attacker, "203.0.113.9", "guess").status_code == 422
    assert _sign_in_from(attacker, "203.0.113.9", "guess").status_code == 429
    # A forged X-Forwarded-For does not help: the proxy appends the address it saw, and that one counts.
    r = attacker.post(
        "/admin/login",
        data={"email": "admin@example.org", "password": "guess", "csrf_token": csrf_token(attacker)},
        headers={"X-Forwarded-For": "10.0.0.1, 203.0.113.9"},
    )
    assert r.status_code == 429
    # The owner, from another address, is not affected.
    assert _sign_in_from(proxied.test_client(), "192.0.2.44", PASSWORD).status_code == 302

    # Guessing from many addresses reaches the account-wide ceiling: new devices are refused...
    for n in range(accounts.FAILURES_PER_ACCOUNT):
        _sign_in_from(proxied.test_client(), f"203.0.113.{100 + n}", "guess")
    assert _sign_in_from(proxied.test_client(), "192.0.2.45", PASSWORD).status_code == 429
    # ...but the owner's known device still signs in.
    assert _sign_in_from(owner, "198.51.100.7", PASSWORD).status_code == 302


def test_without_trusted_proxies_forwarded_headers_are_ignored(client, admin_user):
    for n in range(accounts.FAILURES_PER_ACCOUNT_AND_CLIENT):
        client.post(
            "/admin/login",
            data={"email": "admin@example.org", "password": "guess", "csrf_token": csrf_token(client)},
            headers={"X-Forwarded-For": f"192.0.2.{n}"},
        )
    r = client.post(
        "/admin/login",
        data={"email": "admin@example.org", "password": PASSWORD, "csrf_token": csrf_token(client)},
        headers={"X-Forwarded-For": "192.0.2.99"},
    )
    assert r.status_code == 429


def test_preview_links_can_be_rotated_and_end_with_a_takedown(client, make_episode, admin_headers):
    episode = make_episode(published_at=None)
    base = f"/api/v1/shows/test-show/episodes/{episode.id}"
    first = client.get(base, headers=admin_headers).json["preview_url"].removeprefix(BASE_URL)
    assert client.get(first).status_code == 200
    r = client.post(f"{base}/preview-link", headers=admin_headers)
    second = r.json["preview_url"].removeprefix(BASE_URL)
    assert second != first and client.get(first).status_code == 404 and client.get(second).status_code == 200

    assert client.patch(base, json={"status": "published"}, headers=admin_headers).status_code == 200
    assert client.get(second).status_code == 200
    r = client.patch(base, json={"status": "unpublished"}, headers=admin_headers)
    assert r.status_code == 200 and client.get(second).status_code == 404
    key = r.json["preview_url"].rstrip("/").rsplit("/", 1)[1]
    audio = f"/media/{episode.audio.public_id}/{episode.slug}.mp3"
    assert fetch(client, f"{audio}?preview={second.rstrip('/').rsplit('/', 1)[1]}").status == 404
    assert fetch(client, f"{audio}?preview={key}").status == 200


def test_guessing_from_one_ipv6_64_is_throttled_as_one_client(proxied):
    """A host or a customer's line gets a whole /64: a new address for each guess is still one client."""
    attacker = proxied.test_client()
    for n in range(accounts.FAILURES_PER_ACCOUNT_AND_CLIENT):
        assert _sign_in_from(attacker, f"2001:db8:4:7::{n + 1:x}", "guess").status_code == 422
    assert _sign_in_from(attacker, "2001:db8:4:7:ffff:1:2:3", "guess").status_code == 429
    assert _sign_in_from(attacker, "2001:db8:4:7::99", PASSWORD).status_code == 429
    # The next /64 is another client; IPv4 addresses still count alone.
    assert _sign_in_from(proxied.test_client(), "2001:db8:4:8::1", PASSWORD).status_code == 302
    assert _sign_in_from(proxied.test_client(), "192.0.2.44", PASSWORD).status_code == 302
