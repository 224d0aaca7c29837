"""The RSS feed, read back by the parsers podcast apps use and checked tag by tag."""

from __future__ import annotations

import io
from datetime import timedelta

import feedparser
import podcastparser
from fixtures.app import BASE_URL, fetch
from lxml import etree

from podcast_service.core.extensions import db
from podcast_service.models import utcnow

FEED = "/shows/cyber-security-coalition/feed.xml"
NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "atom": "http://www.w3.org/2005/Atom",
}


def test_podcastparser_reads_the_demo_episode(client, demo):
    response = client.get(FEED)
    assert response.status_code == 200
    assert response.mimetype == "application/rss+xml"
    parsed = podcastparser.parse(BASE_URL + FEED, io.BytesIO(response.data))
    assert parsed["title"] == "Cyber Security Coalition Podcast"
    assert parsed["link"] == "https://cybersecuritycoalition.be/"
    assert parsed["cover_url"].startswith(BASE_URL + "/media/")
    [episode] = parsed["episodes"]
    assert episode["title"] == "Shaping Belgium's digital future"
    assert episode["guid"] == demo.guid
    assert episode["total_time"] == round(demo.audio.duration)
    assert episode["published"] == int(demo.published_at.timestamp())
    assert episode["number"] == 1
    assert episode["type"] == "full"
    assert episode["link"] == f"{BASE_URL}/shows/cyber-security-coalition/shaping-belgiums-digital-future/"
    [enclosure] = episode["enclosures"]
    assert enclosure["file_size"] == demo.audio.size
    assert enclosure["mime_type"] == "audio/mpeg"
    assert enclosure["url"].endswith("/shaping-belgiums-digital-future.mp3")
    assert "Alexander De Croo" in episode["description_html"]


def test_feedparser_reads_it_without_complaint(client, demo):
    parsed = feedparser.parse(client.get(FEED).data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    feed = parsed.feed
    assert feed.title == "Cyber Security Coalition Podcast"
    assert feed.language == "en"
    assert feed.author_detail.name == "Cyber Security Coalition"
    assert feed.publisher_detail.email == "podcast@example.org"
    assert [t.term for t in feed.tags] == ["Technology", "Government"]
    assert feed.itunes_explicit is None  # feedparser reads only "true"/"yes" as explicit and "clean" as False
    [entry] = parsed.entries
    assert entry.id == demo.guid
    assert entry.itunes_duration == str(round(demo.audio.duration))
    assert entry.itunes_season == "1" and entry.itunes_episode == "1" and entry.itunes_episodetype == "full"
    assert entry.enclosures[0].length == str(demo.audio.size)
    assert entry.summary == "An interview with our Prime Minister about Belgium's cyber security strategy."


def test_apple_tags_with_xpath(client, demo):
    root = etree.fromstring(client.get(FEED).data)
    ch = root.find("channel")

    def one(path, node=ch):
        found = node.xpath(path, namespaces=NS)
        assert len(found) == 1, path
        return found[0]

    assert one("itunes:explicit/text()") == "false"
    assert one("itunes:type/text()") == "episodic"
    assert one("itunes:image/@href").endswith(".jpg")
    assert one("itunes:owner/itunes:name/text()") == "Cyber Security Coalition"
    assert one("atom:link[@rel='self']/@href") == BASE_URL + FEED
    item = one("item")
    assert one("guid/@isPermaLink", item) == "false"
    url = one("enclosure/@url", item)
    assert url.isascii() and url.startswith(BASE_URL + "/media/") and url.endswith(".mp3")
    assert one("itunes:explicit/text()", item) == "false"
    assert one("itunes:episodeType/text()", item) == "full"
    assert "<strong>cyber security strategy 2.0</strong>" in one("content:encoded/text()", item)


def test_enclosure_url_serves_exactly_the_declared_bytes(client, demo):
    root = etree.fromstring(client.get(FEED).data)
    enclosure = root.find("channel/item/enclosure")
    response = fetch(client, enclosure.get("url").removeprefix(BASE_URL))
    assert response.status == 200
    assert len(response.data) == int(enclosure.get("length"))
    assert response.headers["content-type"] == enclosure.get("type")


def test_drafts_and_scheduled_episodes_stay_out(client, demo, make_episode, show):
    make_episode(title="Live", published_at=utcnow() - timedelta(minutes=1))
    make_episode(title="Draft", published_at=None)
    make_episode(title="Tomorrow", published_at=utcnow() + timedelta(days=1))
    titles = [e.title for e in feedparser.parse(client.get(f"/shows/{show.slug}/feed.xml").data).entries]
    assert titles == ["Live"]


def test_scheduled_episode_appears_at_its_time(client, make_episode, show):
    soon = make_episode(title="Soon", published_at=utcnow() + timedelta(hours=1))
    assert "Soon" not in client.get(f"/shows/{show.slug}/feed.xml").text
    soon.published_at = utcnow() - timedelta(seconds=1)  # as if the hour had passed
    db.session.commit()
    assert "Soon" in client.get(f"/shows/{show.slug}/feed.xml").text


def test_newest_episode_first(client, make_episode, show):
    make_episode(title="Older", published_at=utcnow() - timedelta(days=2))
    make_episode(title="Newer", published_at=utcnow() - timedelta(days=1))
    titles = [e.title for e in feedparser.parse(client.get(f"/shows/{show.slug}/feed.xml").data).entries]
    assert titles == ["Newer", "Older"]


def test_markup_in_tags_is_escaped(client, make_episode, show):
    make_episode("vbr_noxing_tagged.mp3", title="<script>alert(1)</script>", notes="<script>x</script> **ok**")
    body = client.get(f"/shows/{show.slug}/feed.xml").data
    root = etree.fromstring(body)  # still well-formed XML
    assert root.find("channel/item/title").text == "<script>alert(1)</script>"
    assert b"<script>" not in body.replace(b"<![CDATA[", b"")[: body.find(b"<![CDATA[")]
    assert "&lt;script&gt;" in root.find("channel/item/content:encoded", NS).text


def test_conditional_get(client, demo):
    first = client.get(FEED)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    demo.title = "A new title"
    db.session.commit()
    changed = client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_unknown_show_is_404(client, app):
    assert client.get("/shows/nope/feed.xml").status_code == 404
