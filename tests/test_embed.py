"""The embeddable player, oEmbed, and who may frame what."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from fixtures.app import AUDIO, BASE_URL, policy
from lxml import html

from podcast_service.catalogue.inputs import EpisodeInput, ShowInput
from podcast_service.catalogue.service import save_episode, save_show
from podcast_service.models import utcnow


@pytest.fixture
def published(make_episode):
    return make_episode(title='The "Prime Minister" <interview>', chapters=None)


def test_the_embed_plays_the_enclosure_may_be_framed_and_has_two_themes(client, published):
    path = f"/shows/test-show/{published.slug}/embed"
    r = client.get(path)
    assert r.status_code == 200
    assert policy(r)["frame-ancestors"] == ["*"] and "X-Frame-Options" not in r.headers
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    doc = html.fromstring(r.data)
    assert doc.xpath("//audio[@id='player']/@src")[0].startswith(f"{BASE_URL}/media/")
    assert doc.xpath("//body/@class") == ["light"]
    assert html.fromstring(client.get(path + "?theme=dark").data).xpath("//body/@class") == ["dark"]
    assert client.get(path + "?theme=<script>").status_code == 404
    assert doc.xpath("//script/@src")[0].startswith("/static/player.js?v=")
    assert not doc.xpath("//script[not(@src)]")  # no inline script


def test_other_pages_refuse_framing(client, published):
    for path in ("/", "/shows/test-show/", f"/shows/test-show/{published.slug}/"):
        r = client.get(path)
        assert r.headers["X-Frame-Options"] == "DENY", path
        assert policy(r)["frame-ancestors"] == ["'none'"], path
        assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_drafts_and_private_shows_have_no_embed_and_no_oembed(client, show, make_episode):
    draft = make_episode(title="Draft", published_at=None)
    private = save_show(
        ShowInput(
            slug="members-only",
            title="Members",
            description="d",
            author="a",
            owner_name="o",
            owner_email="o@example.org",
            categories=["Technology"],
            private=True,
        )
    )
    secret = save_episode(private, EpisodeInput(title="Secret", published_at=utcnow()), AUDIO / "cbr.mp3")
    for show_slug, episode in (("test-show", draft), ("members-only", secret)):
        assert client.get(f"/shows/{show_slug}/{episode.slug}/embed").status_code == 404
        page = f"{BASE_URL}/shows/{show_slug}/{episode.slug}/"
        assert client.get("/oembed", query_string={"url": page}).status_code == 404
    preview = f"{BASE_URL}/preview/{draft.preview_key}/"
    assert client.get("/oembed", query_string={"url": preview}).status_code == 404


def test_oembed_turns_an_episode_link_into_the_player(client, published):
    page = f"{BASE_URL}/shows/test-show/{published.slug}/"
    r = client.get("/oembed", query_string={"url": page, "maxwidth": "400"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    data = r.get_json()
    assert (data["version"], data["type"], data["title"]) == ("1.0", "rich", published.title)
    assert data["width"] == 400 and data["height"] == 200
    iframe = html.fromstring(data["html"])
    assert iframe.tag == "iframe" and iframe.get("src") == f"{BASE_URL}/shows/test-show/{published.slug}/embed"
    assert iframe.get("title") == published.title  # quotes and brackets escaped, not breaking the attribute
    assert client.get("/oembed", query_string={"url": page, "maxwidth": "10"}).get_json()["width"] == 280

    # The episode page names the endpoint and offers the same code.
    doc = html.fromstring(client.get(f"/shows/test-show/{published.slug}/").data)
    [discovery] = doc.xpath("//link[@type='application/json+oembed']/@href")
    assert (
        discovery.startswith(f"{BASE_URL}/oembed?") and client.get(discovery.removeprefix(BASE_URL)).status_code == 200
    )
    code = doc.xpath("//textarea[@id='embed-code']/text()")[0]
    assert f'src="{BASE_URL}/shows/test-show/{published.slug}/embed"' in code
    assert doc.xpath("//meta[@name='twitter:player']/@content") == [
        f"{BASE_URL}/shows/test-show/{published.slug}/embed"
    ]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({}, 400),
        ({"url": "https://evil.example.org/shows/test-show/x/"}, 404),
        ({"url": "javascript:alert(1)"}, 404),
        ({"url": f"{BASE_URL}/shows/test-show/../../admin/"}, 404),
        ({"url": f"{BASE_URL}/shows/test-show/no-such-episode/"}, 404),
        ({"url": f"{BASE_URL}/shows/test-show/x/", "format": "xml"}, 501),
        ({"url": f"{BASE_URL}/shows/test-show/x/", "maxwidth": "wide"}, 400),
    ],
)
def test_oembed_refuses_what_is_not_an_episode_page_here(client, published, query, status):
    if "maxwidth" in query:
        query = {**query, "url": f"{BASE_URL}/shows/test-show/{published.slug}/"}
    r = client.get("/oembed", query_string=query)
    assert r.status_code == status
    assert "Traceback" not in r.get_data(as_text=True)


def test_the_player_script_is_versioned_and_kept_a_year(client, published):
    doc = html.fromstring(client.get(f"/shows/test-show/{published.slug}/").data)
    [src] = doc.xpath("//script[contains(@src, 'player')]/@src")
    assert re.fullmatch(r"/static/player\.js\?v=[0-9a-f]{12}", html_lib.unescape(src))
    r = client.get(src)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"#t=" in r.data
    r.close()
