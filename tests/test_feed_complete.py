"""A show using every feed feature, its feed checked tag by tag and read back by three parsers.

The parsers are the ones listeners' apps use: podcastparser (gPodder),
feedparser, and podcast-partytime (the Podcast Index's own, from npm, run
with Node.js), each value checked.
"""

from __future__ import annotations

import io
import json
import uuid
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import podcastparser
import pytest
from fixtures.app import AUDIO, BASE_URL, fetch
from fixtures.feeds import PARTYTIME, PODROLL_GUID, partytime
from lxml import etree

from podcast_service.catalogue.inputs import EpisodeInput
from podcast_service.catalogue.service import save_episode
from podcast_service.core.extensions import db
from podcast_service.feed import cache
from podcast_service.models import utcnow

PODCAST = "https://podcastindex.org/namespace/1.0"
NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "atom": "http://www.w3.org/2005/Atom",
    "podcast": PODCAST,
}
FEED = "/shows/everything/feed.xml"
HUB = "http://127.0.0.1:9/hub"  # nothing listens: announcements fail quietly in the background


@pytest.fixture
def app_config(app_config):
    app_config["websub_hubs"] = [HUB]
    return app_config


def one(node, path):
    found = node.xpath(path, namespaces=NS)
    assert len(found) == 1, (path, found)
    return found[0]


def test_every_channel_tag(client, everything):
    show, full, trailer, _bonus = everything
    response = client.get(FEED)
    assert response.status_code == 200
    ch = etree.fromstring(response.data).find("channel")
    text = lambda path: one(ch, path + "/text()")  # noqa: E731

    assert text("title") == "Everything Show"
    assert text("link") == "https://cybersecuritycoalition.be/"
    assert text("description") == text("itunes:summary") == "Every feature of the feed, in one show. Ça marche."
    assert text("language") == "en"
    assert text("copyright") == "© 2021 Cyber Security Coalition"
    assert one(ch, "atom:link[@rel='self']/@href") == BASE_URL + FEED
    assert one(ch, "atom:link[@rel='hub']/@href") == HUB
    # Apple
    assert text("itunes:title") == "Everything Show"
    assert text("itunes:author") == "Cyber Security Coalition"
    assert text("itunes:owner/itunes:name") == "The Coalition"
    assert text("itunes:owner/itunes:email") == "owner@example.org"
    assert one(ch, "itunes:image/@href") == one(ch, "image/url/text()")
    assert one(ch, "itunes:image/@href").startswith(BASE_URL + "/media/")
    assert [c.get("text") for c in ch.xpath("itunes:category", namespaces=NS)] == ["Technology", "News"]
    assert one(ch, "itunes:category[@text='News']/itunes:category/@text") == "Tech News"
    assert text("itunes:explicit") == "false"
    assert text("itunes:type") == "serial"
    assert text("itunes:block") == "Yes"
    assert text("itunes:complete") == "Yes"
    # Podcasting 2.0
    assert text("podcast:locked") == "yes" and one(ch, "podcast:locked/@owner") == "owner@example.org"
    expected_guid = uuid.uuid5(
        uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "podcasts.example.org/shows/everything/feed.xml"
    )
    assert text("podcast:guid") == str(expected_guid) == show.podcast_guid
    assert text("podcast:medium") == "podcast"
    assert text("podcast:funding") == "Support the show"
    assert one(ch, "podcast:funding/@url") == "https://example.org/support"
    person = one(ch, "podcast:person")
    assert (person.text, person.get("role"), person.get("group"), person.get("href"), person.get("img")) == (
        "Hannah Host",
        "host",
        "cast",
        "https://example.org/hannah",
        "https://example.org/hannah.jpg",
    )
    location = one(ch, "podcast:location")
    assert (location.text, location.get("geo"), location.get("osm")) == (
        "Brussels, Belgium",
        "geo:50.8466,4.3528",
        "R54094",
    )
    teaser = one(ch, "podcast:trailer")
    assert teaser.text == "Coming soon"
    assert teaser.get("url").endswith("/trailer.m4a") and teaser.get("type") == "audio/x-m4a"
    assert int(teaser.get("length")) == trailer.audio.size and teaser.get("season") == "1"
    assert parsedate_to_datetime(teaser.get("pubdate")) == trailer.published_at.replace(microsecond=0)
    assert text("podcast:license") == "cc-by-4.0"
    assert one(ch, "podcast:license/@url") == "https://creativecommons.org/licenses/by/4.0/"
    assert text("podcast:txt") == "verify-ownership-123" and one(ch, "podcast:txt/@purpose") == "verify"
    remote = one(ch, "podcast:podroll/podcast:remoteItem")
    assert (remote.get("feedGuid"), remote.get("feedUrl")) == (PODROLL_GUID, "https://example.org/other/feed.xml")
    frequency = one(ch, "podcast:updateFrequency")
    assert (frequency.text, frequency.get("rrule"), frequency.get("complete")) == (
        "Once a year, with the report",
        "FREQ=YEARLY",
        "true",
    )


def test_every_item_tag(client, everything):
    show, full, _trailer, bonus = everything
    ch = etree.fromstring(client.get(FEED).data).find("channel")
    items = ch.findall("item")
    assert [one(i, "title/text()") for i in items] == ["Opus only", "Shaping Belgium's digital future", "Coming soon"]
    item = items[1]
    text = lambda path: one(item, path + "/text()")  # noqa: E731

    assert text("guid") == full.guid and one(item, "guid/@isPermaLink") == "false"
    assert text("link") == f"{BASE_URL}/shows/everything/digital-future/"
    assert text("description") == text("itunes:summary") == full.summary
    assert "<strong>cyber security strategy 2.0</strong>" in text("content:encoded")
    assert parsedate_to_datetime(text("pubDate")) == full.published_at.replace(microsecond=0)
    enclosure = one(item, "enclosure")
    assert enclosure.get("url") == f"{BASE_URL}/media/{full.audio.public_id}/digital-future.mp3"
    assert (enclosure.get("length"), enclosure.get("type")) == (str(full.audio.size), "audio/mpeg")
    assert text("itunes:title") == full.title
    assert text("itunes:duration") == "6"
    assert one(item, "itunes:image/@href") == f"{BASE_URL}/media/{full.image.public_id}/digital-future.jpg"
    assert text("itunes:explicit") == "false"
    assert (text("itunes:episode"), text("itunes:season"), text("itunes:episodeType")) == ("1", "1", "full")
    # Podcasting 2.0
    transcripts = {t.get("type"): t for t in item.xpath("podcast:transcript", namespaces=NS)}
    assert set(transcripts) == {"text/vtt", "application/x-subrip", "application/json", "text/html"}
    assert transcripts["text/vtt"].get("rel") == "captions" and transcripts["text/vtt"].get("language") == "en"
    vtt = client.get(transcripts["text/vtt"].get("url").removeprefix(BASE_URL))
    assert vtt.status_code == 200 and vtt.mimetype == "text/vtt" and vtt.text.startswith("WEBVTT")
    srt = client.get(transcripts["application/x-subrip"].get("url").removeprefix(BASE_URL)).text
    assert srt.startswith("1\n00:00:00,000 --> ") and "Shaping Belgium's digital future." in srt
    segments = client.get(transcripts["application/json"].get("url").removeprefix(BASE_URL)).json["segments"]
    assert segments[1] == {"startTime": 5.571, "endTime": 7.828, "body": "Shaping Belgium's digital future."}
    html = client.get(transcripts["text/html"].get("url").removeprefix(BASE_URL))
    assert html.mimetype == "text/html" and "<p>Shaping Belgium&#x27;s digital future.</p>" in html.text
    chapters = client.get(one(item, "podcast:chapters/@url").removeprefix(BASE_URL))
    assert one(item, "podcast:chapters/@type") == "application/json+chapters"
    assert [c["title"] for c in json.loads(chapters.data)["chapters"]] == ["Introduction", "The strategy"]
    bite = one(item, "podcast:soundbite")
    assert (bite.get("startTime"), bite.get("duration"), bite.text) == ("1", "2.5", "The strategy in one sentence")
    guest = one(item, "podcast:person")
    assert (guest.text, guest.get("role"), guest.get("href"), guest.get("img")) == (
        "Alexander De Croo",
        "guest",
        "https://example.org/de-croo",
        "https://example.org/de-croo.jpg",
    )
    assert text("podcast:season") == "1" and one(item, "podcast:season/@name") == "2021"
    assert text("podcast:episode") == "1"
    mp3, opus = item.xpath("podcast:alternateEnclosure", namespaces=NS)
    assert (mp3.get("type"), mp3.get("default"), mp3.get("length")) == ("audio/mpeg", "true", str(full.audio.size))
    assert one(mp3, "podcast:source/@uri") == enclosure.get("url")
    assert (opus.get("type"), opus.get("default"), opus.get("title")) == ("audio/opus", None, "OPUS")
    opus_url = one(opus, "podcast:source/@uri")
    assert opus_url.endswith("/digital-future.opus") and opus_url.isascii()
    assert fetch(client, opus_url.removeprefix(BASE_URL), Range="bytes=0-3").data == b"OggS"

    # An episode uploaded as Opus only: the audio job made the MP3 every app plays from it, with an Opus
    # rendition beside it (the upload itself is the master, never served).
    assert items[0].find("enclosure").get("type") == "audio/mpeg"
    assert items[0].find("enclosure").get("url").endswith("/opus-only.mp3")
    mp3, made = items[0].xpath("podcast:alternateEnclosure", namespaces=NS)
    assert (mp3.get("type"), mp3.get("default")) == ("audio/mpeg", "true")
    assert (made.get("type"), made.get("title")) == ("audio/opus", "OPUS")


def test_apple_rules(client, everything):
    """ASCII enclosure URLs ending in the file's extension, only MP3/M4A as enclosures, a warning otherwise."""
    root = etree.fromstring(client.get(FEED).data)
    for url in root.xpath("//enclosure/@url | //podcast:source/@uri", namespaces=NS):
        assert url.isascii() and Path(url).suffix in (".mp3", ".m4a", ".opus")
    assert {e.get("type") for e in root.iter("enclosure")} == {"audio/mpeg", "audio/x-m4a"}
    for desc in root.xpath("//description/text() | //itunes:summary/text()", namespaces=NS):
        assert len(desc.encode()) <= 4000


def test_podcastparser_reads_it(client, everything):
    """gPodder's parser. It knows the namespace only by its old GitHub URI (its bug), so the podcast:
    values are checked on a copy that declares that URI: the tags themselves are what gPodder reads."""
    show, full, trailer, bonus = everything
    data = client.get(FEED).data
    parsed = podcastparser.parse(BASE_URL + FEED, io.BytesIO(data))
    assert parsed["title"] == "Everything Show"
    assert parsed["link"] == "https://cybersecuritycoalition.be/"
    assert parsed["type"] == "serial"
    assert parsed["cover_url"].startswith(BASE_URL + "/media/")
    assert parsed["description"] == show.description
    by_guid = {e["guid"]: e for e in parsed["episodes"]}
    bonus_ep, full_ep, trailer_ep = by_guid[bonus.guid], by_guid[full.guid], by_guid[trailer.guid]
    assert full_ep["guid"] == full.guid and full_ep["title"] == full.title
    assert full_ep["total_time"] == 6 and full_ep["number"] == 1 and full_ep["type"] == "full"
    assert full_ep["published"] == int(full.published_at.timestamp())
    assert full_ep["enclosures"] == [
        {
            "url": f"{BASE_URL}/media/{full.audio.public_id}/digital-future.mp3",
            "file_size": full.audio.size,
            "mime_type": "audio/mpeg",
        }
    ]
    assert "<strong>" in full_ep["description_html"]
    assert trailer_ep["type"] == "trailer" and trailer_ep["enclosures"][0]["mime_type"] == "audio/x-m4a"
    # Uploaded as Opus: gPodder gets the MP3 made from it.
    assert [e["mime_type"] for e in bonus_ep["enclosures"]] == ["audio/mpeg"]

    old_uri = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
    reparsed = podcastparser.parse(BASE_URL + FEED, io.BytesIO(data.replace(PODCAST.encode(), old_uri.encode())))
    assert reparsed["funding_url"] == "https://example.org/support"
    assert reparsed["import_prohibited"] is True
    episode = next(e for e in reparsed["episodes"] if e["guid"] == full.guid)
    assert episode["transcript_url"].startswith(f"{BASE_URL}/shows/everything/digital-future/transcript.")
    assert episode["chapters_json_url"] == f"{BASE_URL}/shows/everything/digital-future/chapters.json"
    assert episode["persons"] == [
        {
            "name": "Alexander De Croo",
            "role": "guest",
            "group": "cast",
            "href": "https://example.org/de-croo",
            "img": "https://example.org/de-croo.jpg",
        }
    ]


def test_feedparser_reads_it(client, everything):
    show, full, _trailer, _bonus = everything
    parsed = feedparser.parse(client.get(FEED).data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.namespaces["podcast"] == PODCAST
    feed = parsed.feed
    assert feed.title == "Everything Show" and feed.language == "en"
    # feedparser reads itunes:owner as both publisher and author (its own reading; lxml checks itunes:author).
    assert feed.publisher_detail == feed.author_detail == {"name": "The Coalition", "email": "owner@example.org"}
    assert [t.term for t in feed.tags] == ["Technology", "News", "Tech News"]
    assert feed.rights == "© 2021 Cyber Security Coalition"
    assert feed.podcast_guid == show.podcast_guid
    assert feed.podcast_medium == "podcast"
    assert feed.podcast_locked == {"owner": "owner@example.org"}
    assert feed.podcast_location == {"geo": "geo:50.8466,4.3528", "osm": "R54094"}
    assert feed.podcast_updatefrequency == {"rrule": "FREQ=YEARLY", "complete": "true"}
    assert feed.podcast_license == {"url": "https://creativecommons.org/licenses/by/4.0/"}
    assert feed.podcast_remoteitem == {"feedguid": PODROLL_GUID, "feedurl": "https://example.org/other/feed.xml"}
    entry = parsed.entries[1]
    assert entry.id == full.guid and entry.title == full.title
    assert entry.itunes_duration == "6" and entry.itunes_episodetype == "full"
    assert entry.itunes_season == "1" and entry.itunes_episode == "1"
    assert entry.enclosures[0].href.endswith("/digital-future.mp3")
    assert entry.enclosures[0].length == str(full.audio.size)
    assert entry.summary == full.summary
    assert "<strong>" in entry.content[0].value
    assert entry.podcast_chapters["url"].endswith("/digital-future/chapters.json")
    assert entry.podcast_soundbite == {"starttime": "1", "duration": "2.5"}
    assert entry.podcast_season == {"name": "2021"} and entry.podcast_episode == "1"
    assert entry.podcast_alternateenclosure["type"] == "audio/opus"
    assert entry.podcast_source["uri"].endswith("/digital-future.opus")


def test_podcast_partytime_reads_it_and_knows_every_tag(client, everything):
    show, full, trailer, bonus = everything
    data = client.get(FEED).data
    feed = partytime(data)

    assert feed["title"] == "Everything Show"
    assert feed["guid"] == show.podcast_guid
    assert feed["locked"] is True and feed["podcastOwner"] == "owner@example.org"
    assert feed["medium"] == "podcast"
    assert feed["podcastFunding"] == [{"message": "Support the show", "url": "https://example.org/support"}]
    assert feed["podcastPeople"] == [
        {
            "name": "Hannah Host",
            "role": "Host",
            "group": "Cast",
            "img": "https://example.org/hannah.jpg",
            "href": "https://example.org/hannah",
        }
    ]
    assert feed["podcastLocation"] == {"name": "Brussels, Belgium", "geo": "geo:50.8466,4.3528", "osm": "R54094"}
    [teaser] = feed["trailers"]
    assert teaser["title"] == "Coming soon" and teaser["length"] == trailer.audio.size and teaser["season"] == 1
    assert feed["license"] == {"identifier": "cc-by-4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}
    assert feed["podcastTxt"] == [{"value": "verify-ownership-123", "purpose": "verify"}]
    assert feed["podroll"] == [{"feedGuid": PODROLL_GUID, "feedUrl": "https://example.org/other/feed.xml"}]
    assert feed["podcastSeasons"]["1"] == {"number": 1, "name": "2021"}

    item = next(i for i in feed["items"] if i["guid"] == full.guid)
    assert item["enclosure"]["url"].endswith("/digital-future.mp3")
    assert {t["type"] for t in item["podcastTranscripts"]} == {
        "text/vtt",
        "application/srt",
        "application/json",
        "text/html",
    }
    assert item["podcastChapters"] == {
        "url": f"{BASE_URL}/shows/everything/digital-future/chapters.json",
        "type": "application/json+chapters",
    }
    assert item["podcastSoundbites"] == [{"startTime": 1, "duration": 2.5, "title": "The strategy in one sentence"}]
    assert item["podcastPeople"][0]["name"] == "Alexander De Croo"
    assert item["podcastSeason"] == {"number": 1, "name": "2021"}
    assert item["podcastEpisode"] == {"number": 1}
    assert [(a["type"], a["default"]) for a in item["alternativeEnclosures"]] == [
        ("audio/mpeg", True),
        ("audio/opus", False),
    ]

    emitted = {el.tag.split("}")[1] for el in etree.fromstring(data).iter(f"{{{PODCAST}}}*")}
    emitted -= {"source", "remoteItem"}  # parts of alternateEnclosure and podroll, reported with them
    supported = {tag for tags in feed["pc20support"].values() for tag in tags}
    # podcast-partytime 5.0.0 has no parser for updateFrequency yet; were it to learn it, this asks for it too.
    knows_frequency = (
        "updateFrequency"
        in (PARTYTIME / "node_modules/podcast-partytime/dist/parser").joinpath("phase/index.js").read_text()
    )
    assert emitted - supported == (set() if knows_frequency else {"updateFrequency"})


def test_guids_never_change_and_a_moved_show_redirects(client, everything, app):
    show, full, _trailer, _bonus = everything
    guid = full.guid
    save_episode(
        show,
        EpisodeInput(title="A new title", slug="digital-future", published_at=full.published_at),
        AUDIO / "vbr_xing.mp3",
        existing=full,
    )
    assert etree.fromstring(client.get(FEED).data).xpath("//item[title='A new title']/guid/text()") == [guid]

    show.new_feed_url = "https://newhost.example.net/feed.rss"
    db.session.commit()
    response = client.get(FEED)
    assert response.status_code == 301 and response.location == "https://newhost.example.net/feed.rss"
    moved = etree.fromstring(cache.render(show, utcnow()))
    assert moved.xpath("//itunes:new-feed-url/text()", namespaces=NS) == ["https://newhost.example.net/feed.rss"]
    assert moved.xpath("//podcast:guid/text()", namespaces=NS) == [show.podcast_guid]  # identity kept
