"""What search engines and shared links see: robots.txt, the sitemap (and its index), Open Graph, JSON-LD.

Nothing that is not public may appear: drafts, scheduled and unpublished episodes, episodes whose audio is
still being made, private shows, preview links.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from fixtures.app import AUDIO, BASE_URL, wait_for
from fixtures.counting import counting
from fixtures.masters import write_master
from lxml import etree, html

from podcast_service.catalogue.inputs import EpisodeInput, ShowInput
from podcast_service.catalogue.service import delete_episode, episode_input, save_episode, save_show
from podcast_service.models import utcnow
from podcast_service.web import discovery

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def catalogue(show, make_episode):
    """One of each kind of episode, and a private show with a published one."""
    now = utcnow()
    kinds = {
        "published": make_episode(title="Published one"),
        "draft": make_episode(title="A draft", published_at=None),
        "scheduled": make_episode(title="Scheduled one", published_at=now + timedelta(days=3)),
        "unpublished": make_episode(title="Taken down", withdrawn=True),
    }
    private = save_show(
        ShowInput(
            slug="members-only",
            title="Members only",
            description="d",
            author="a",
            owner_name="o",
            owner_email="o@example.org",
            categories=["Technology"],
            private=True,
        )
    )
    kinds["private"] = save_episode(
        private, EpisodeInput(title="Secret", published_at=now - timedelta(hours=1)), AUDIO / "cbr.mp3"
    )
    return kinds


def sitemap_urls(client, path: str = "/sitemap.xml") -> list[str]:
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == "application/xml"
    return [loc.text for loc in etree.fromstring(r.data).iter(f"{SITEMAP}loc")]


def test_robots_txt_points_at_the_sitemap_and_keeps_crawlers_off_private_paths(client):
    r = client.get("/robots.txt")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    body = r.get_data(as_text=True)
    for path in ("/preview/", "/admin/", "/api/", "/subscriptions/"):
        assert f"Disallow: {path}" in body
    assert f"Sitemap: {BASE_URL}/sitemap.xml" in body


def test_the_sitemap_lists_every_public_page_and_nothing_else(client, catalogue):
    listed = sitemap_urls(client)
    published = catalogue["published"]
    assert listed == [f"{BASE_URL}/", f"{BASE_URL}/shows/test-show/", f"{BASE_URL}/shows/test-show/{published.slug}/"]
    for page in listed:
        assert client.get(page.removeprefix(BASE_URL)).status_code == 200


@pytest.mark.jobs_wait
def test_an_episode_whose_audio_is_being_made_is_not_in_the_sitemap(client, show, tmp_path):
    save_episode(
        show, EpisodeInput(title="Being encoded", published_at=utcnow()), write_master(tmp_path / "m.wav", 2.0)
    )
    assert sitemap_urls(client) == [f"{BASE_URL}/", f"{BASE_URL}/shows/test-show/"]


def test_past_the_limit_the_sitemap_becomes_an_index_of_files_within_it(client, show, make_episode, monkeypatch):
    episodes = [make_episode(title=f"Episode {n}") for n in range(7)]
    make_episode(title="Draft", published_at=None)
    monkeypatch.setattr(discovery, "URLS_PER_FILE", 3)
    r = client.get("/sitemap.xml")
    index = etree.fromstring(r.data)
    assert index.tag == f"{SITEMAP}sitemapindex"
    files = [loc.text for loc in index.iter(f"{SITEMAP}loc")]
    assert files == [f"{BASE_URL}/sitemaps/{n}.xml" for n in range(1, 5)]  # the shows, then 3 + 3 + 1 episodes
    seen = []
    for url in files:
        listed = sitemap_urls(client, url.removeprefix(BASE_URL))
        assert 1 <= len(listed) <= 3
        seen += listed
    expected = [f"{BASE_URL}/", f"{BASE_URL}/shows/test-show/"]
    expected += [f"{BASE_URL}/shows/test-show/{e.slug}/" for e in sorted(episodes, key=lambda e: e.id)]
    assert seen == expected
    assert client.get("/sitemaps/5.xml").status_code == 404
    assert client.get("/sitemaps/0.xml").status_code == 404


def test_the_sitemap_is_built_once_and_follows_every_change(client, show, make_episode):
    """Kept between requests (two small queries, no episode read), rebuilt after any write to a show or an
    episode, a new show whose feed nobody asked for included, and when a scheduled episode goes live."""
    first = make_episode(title="First")
    assert len(sitemap_urls(client)) == 3
    with counting() as statements:
        assert len(sitemap_urls(client)) == 3
    assert len(statements) == 2 and not any("episodes.slug" in s for s in statements), statements
    save_episode(show, replace(episode_input(first), title="First, renamed"), existing=first)  # a write
    second = make_episode(title="Second")
    assert f"{BASE_URL}/shows/test-show/{second.slug}/" in sitemap_urls(client)
    other = save_show(
        ShowInput(
            slug="other",
            title="Other",
            description="d",
            author="a",
            owner_name="o",
            owner_email="o@example.org",
            categories=["Technology"],
        )
    )
    assert f"{BASE_URL}/shows/other/" in sitemap_urls(client)
    late = save_episode(other, EpisodeInput(title="Late", published_at=utcnow()), AUDIO / "cbr.mp3")
    assert f"{BASE_URL}/shows/other/{late.slug}/" in sitemap_urls(client)
    soon = make_episode(title="Soon", published_at=utcnow() + timedelta(seconds=2))
    assert f"{BASE_URL}/shows/test-show/{soon.slug}/" not in sitemap_urls(client)
    wait_for(lambda: f"{BASE_URL}/shows/test-show/{soon.slug}/" in sitemap_urls(client), what="goes live")
    delete_episode(second)
    assert f"{BASE_URL}/shows/test-show/{second.slug}/" not in sitemap_urls(client)


def page_head(client, path: str) -> html.HtmlElement:
    r = client.get(path)
    assert r.status_code == 200
    return html.fromstring(r.data)


def test_an_episode_page_carries_open_graph_and_json_ld_that_producer_text_cannot_break(client, make_episode):
    episode = make_episode(
        title="</script><script>alert(1)</script> Shaping Belgium's digital future",
        summary="The Prime Minister on <b>cyber security</b>.",
        season=1,
        number=1,
    )
    doc = page_head(client, f"/shows/test-show/{episode.slug}/")
    scripts = doc.xpath("//script[@type='application/ld+json']")
    assert len(scripts) == 1 and not doc.xpath("//script[contains(., 'alert(1)') and not(@type)]")
    data = json.loads(scripts[0].text)
    assert data["@type"] == "PodcastEpisode" and data["name"] == episode.title
    assert data["associatedMedia"]["contentUrl"].startswith(f"{BASE_URL}/media/")
    assert data["associatedMedia"]["encodingFormat"] == "audio/mpeg"
    assert re.fullmatch(r"PT(\d+H)?(\d+M)?\d+S", data["associatedMedia"]["duration"])
    assert data["partOfSeries"] == {
        "@type": "PodcastSeries",
        "name": "Test Show",
        "url": f"{BASE_URL}/shows/test-show/",
    }
    assert data["episodeNumber"] == 1 and data["partOfSeason"]["seasonNumber"] == 1
    og = {m.get("property"): m.get("content") for m in doc.xpath("//meta[starts-with(@property, 'og:')]")}
    assert og["og:audio"] == data["associatedMedia"]["contentUrl"] and og["og:audio:type"] == "audio/mpeg"
    assert og["og:title"] == episode.title and og["og:url"] == f"{BASE_URL}/shows/test-show/{episode.slug}/"
    assert doc.xpath("//link[@rel='canonical']/@href") == [og["og:url"]]


def test_a_preview_page_carries_no_sharing_metadata(client, make_episode):
    draft = make_episode(title="Not yet", published_at=None)
    doc = page_head(client, f"/preview/{draft.preview_key}/")
    assert not doc.xpath("//meta[starts-with(@property, 'og:')]")
    assert not doc.xpath("//script[@type='application/ld+json']")


def test_a_show_page_describes_the_series_with_its_feed(client, show, make_episode):
    make_episode()
    doc = page_head(client, "/shows/test-show/")
    data = json.loads(doc.xpath("//script[@type='application/ld+json']")[0].text)
    assert data["@type"] == "PodcastSeries" and data["webFeed"] == f"{BASE_URL}/shows/test-show/feed.xml"
    assert doc.xpath("//link[@rel='canonical']/@href") == [f"{BASE_URL}/shows/test-show/"]


def test_a_show_page_offers_its_feed_funding_and_people(client, admin_headers, make_episode):
    make_episode()
    r = client.patch(
        "/api/v1/shows/test-show",
        headers=admin_headers,
        json={
            "funding": [["https://example.org/support", "Support the Coalition"]],
            "people": [{"name": "Alexander De Croo", "role": "guest", "title": "Prime Minister of Belgium"}],
        },
    )
    assert r.status_code == 200
    doc = page_head(client, "/shows/test-show/")
    assert doc.xpath("//a[@type='application/rss+xml']/@href") == [f"{BASE_URL}/shows/test-show/feed.xml"]
    assert doc.xpath("//p[@class='funding']/a[@rel='payment']/@href") == ["https://example.org/support"]
    assert "Alexander De Croo" in doc.xpath("string(//section[contains(@class, 'people')])")
    assert "Prime Minister of Belgium" in doc.xpath("string(//section[contains(@class, 'people')])")


def test_subscribe_buttons_come_from_the_links_the_producer_sets_and_bad_ones_are_refused(
    client, admin_headers, make_episode
):
    make_episode()
    bad = client.patch(
        "/api/v1/shows/test-show",
        headers=admin_headers,
        json={"subscribe_links": {"myspace": "https://myspace.example/show"}},
    )
    assert bad.status_code == 422 and "'myspace' is not one of apple, spotify" in bad.json["error"]["message"]
    bad = client.patch(
        "/api/v1/shows/test-show", headers=admin_headers, json={"subscribe_links": {"apple": "javascript:alert(1)"}}
    )
    assert bad.status_code == 422
    links = {
        "apple": "https://podcasts.apple.com/be/podcast/id1234567890",
        "spotify": "https://open.spotify.com/show/abc",
    }
    r = client.patch("/api/v1/shows/test-show", headers=admin_headers, json={"subscribe_links": links})
    assert r.status_code == 200 and r.json["subscribe_links"] == links
    doc = page_head(client, "/shows/test-show/")
    buttons = {a.text: a.get("href") for a in doc.xpath("//ul[@class='subscribe']//a")}
    assert buttons["Apple Podcasts"] == links["apple"] and buttons["Spotify"] == links["spotify"]
    assert buttons["AntennaPod"] == (
        "https://antennapod.org/deeplink/subscribe?url=https%3A//podcasts.example.org/shows/test-show/feed.xml"
    )
