"""Private shows: personal feed URLs that work in any app, revocable, and nothing public mentions them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fixtures.app import AUDIO, BASE_URL, csrf_token, fetch, multipart
from lxml import etree

from podcast_service.catalogue import coercion as fields
from podcast_service.catalogue.service import save_show

FEED = "/shows/test-show/feed.xml"


@pytest.fixture
def private_show(show, make_episode):
    episode = make_episode(title="Members only")
    save_show(replace(fields.show_input(show), private=True))
    return show, episode


def subscribe(client, headers, name="Alice") -> tuple[int, str]:
    r = client.post("/api/v1/shows/test-show/subscribers", json={"name": name}, headers=headers)
    assert r.status_code == 201, r.json
    return r.json["id"], r.json["feed_url"]


def test_nothing_public_mentions_a_private_show(client, private_show):
    _show, episode = private_show
    assert client.get(FEED).status_code == 404
    assert client.get("/shows/test-show/").status_code == 404
    assert client.get(f"/shows/test-show/{episode.slug}/").status_code == 404
    assert client.get(f"/shows/test-show/{episode.slug}/chapters.json").status_code == 404
    assert client.get(f"/media/{episode.audio.public_id}/{episode.slug}.mp3").status_code == 404
    for page in ("/", "/opml.xml"):
        text = client.get(page).text
        assert "Test Show" not in text and "test-show" not in text and "Members only" not in text


def test_a_subscriber_feed_works_until_revoked(client, private_show, admin_headers):
    _show, episode = private_show
    subscriber_id, feed_url = subscribe(client, admin_headers)
    token = feed_url.split("/")[-2]
    assert feed_url == f"{BASE_URL}/subscriptions/{token}/feed.xml"

    response = client.get(feed_url.removeprefix(BASE_URL))
    assert response.status_code == 200
    assert response.cache_control.private and not response.cache_control.public
    channel = etree.fromstring(response.data).find("channel")
    assert channel.findtext("{http://www.itunes.com/dtds/podcast-1.0.dtd}block") == "Yes"
    assert channel.find("{http://www.w3.org/2005/Atom}link").get("href") == feed_url
    [url] = [e.get("url") for e in channel.iter("enclosure")]
    assert url == f"{BASE_URL}/subscriptions/{token}/media/{episode.audio.public_id}/{episode.slug}.mp3"
    assert b"subscriber-token-placeholder" not in response.data
    audio = fetch(client, url.removeprefix(BASE_URL), Range="bytes=0-1")
    assert audio.status in (200, 206) and len(audio.data) == 2
    assert fetch(client, f"/subscriptions/{token}/media/{episode.audio.public_id}/x.mp3").status == 200

    # Another subscriber's copy differs only by the token, and validates on its own.
    _other_id, other_url = subscribe(client, admin_headers, "Bob")
    other = client.get(other_url.removeprefix(BASE_URL))
    assert other.headers["ETag"] != response.headers["ETag"]
    assert other.data.replace(other_url.split("/")[-2].encode(), token.encode()) == response.data
    assert (
        client.get(feed_url.removeprefix(BASE_URL), headers={"If-None-Match": response.headers["ETag"]}).status_code
        == 304
    )

    listed = client.get("/api/v1/shows/test-show/subscribers", headers=admin_headers).json
    assert [(s["name"], s["prefix"]) for s in listed] == [("Alice", token[:8]), ("Bob", other_url.split("/")[-2][:8])]
    assert all("feed_url" not in s for s in listed)

    revoked = client.delete(f"/api/v1/shows/test-show/subscribers/{subscriber_id}", headers=admin_headers)
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    assert client.get(feed_url.removeprefix(BASE_URL)).status_code == 403
    assert client.get(url.removeprefix(BASE_URL)).status_code == 403
    assert client.get(other_url.removeprefix(BASE_URL)).status_code == 200  # Bob still listens
    assert client.get("/subscriptions/not-a-real-token-at-all/feed.xml").status_code == 401


def test_a_token_opens_only_its_own_show(client, private_show, admin_headers):
    _show, episode = private_show
    _id, feed_url = subscribe(client, admin_headers)
    token = feed_url.split("/")[-2]
    other = client.post(
        "/api/v1/shows",
        json={
            "slug": "other",
            "title": "Other",
            "description": "Another show.",
            "author": "A",
            "owner_name": "O",
            "owner_email": "o@example.org",
            "categories": ["Technology"],
        },
        headers=admin_headers,
    )
    assert other.status_code == 201
    upload = client.post(
        "/api/v1/shows/other/episodes",
        headers=admin_headers,
        **multipart(audio=((AUDIO / "cbr.mp3").read_bytes(), "x.mp3"), status="published"),
    )
    other_audio = upload.json["audio_url"].split("/media/")[1]
    assert client.get(f"/subscriptions/{token}/media/{other_audio}").status_code == 404


def test_producers_manage_subscribers_in_the_admin(client, signed_in, private_show):
    page = client.get("/admin/shows/test-show/").text
    assert "Subscribers" in page

    created = client.post(
        "/admin/shows/test-show/subscribers",
        data={"name": "Carol", "csrf_token": csrf_token(client, "/admin/shows/test-show/")},
    )
    assert created.status_code == 200
    url = etree.HTML(created.data).xpath("//code[@class='new-subscriber-url']/text()")[0]
    assert url.startswith(f"{BASE_URL}/subscriptions/") and client.get(url.removeprefix(BASE_URL)).status_code == 200
    assert url not in client.get("/admin/shows/test-show/").text  # shown once
