"""import-feed: a podcast moves here from another host with its guids and dates; re-runs fetch only what is new."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

import feedparser
import podcastparser
import pytest
from fixtures.app import AUDIO, BASE_URL, DEMO_EPISODES, migrate
from fixtures.feeds import partytime
from fixtures.old_host import FIRST, PODCAST_NS, channel, item

from podcast_service.catalogue import coercion as fields
from podcast_service.catalogue.inputs import PersonInput
from podcast_service.catalogue.service import save_show
from podcast_service.core.extensions import db
from podcast_service.imports import feed as feed_import
from podcast_service.imports import fetcher
from podcast_service.models import Episode, Show


@pytest.fixture
def app_config(app_config):
    """The old host runs on this machine's loopback, which imports refuse unless told otherwise."""
    return {**app_config, "import_allow_private_networks": True}


def test_import_keeps_guids_and_dates_and_rerun_fetches_only_new(runner, old_host, client):
    url = old_host(FIRST)
    result = runner.invoke(args=["import-feed", url, "--slug", "moved"])
    assert result.exit_code == 0, result.output
    assert "2 imported, 0 present, 0 failed" in result.output
    show = db.session.query(Show).one()
    assert (show.slug, show.title, show.language, show.owner_email) == (
        "moved",
        "Old Host Show",
        "nl",
        "owner@old.example.org",
    )
    assert show.categories == [["News", "Tech News"]]
    episodes = {e.guid: e for e in db.session.query(Episode)}
    assert set(episodes) == {"old-guid-1", "https://old.example.org/?p=2"}
    first = episodes["old-guid-1"]
    assert first.published_at == datetime(2022, 3, 1, 9, tzinfo=UTC)
    assert first.explicit is True and episodes["https://old.example.org/?p=2"].explicit is False
    assert first.number == 1 and first.audio.sha256  # stored here, not linked to the old host
    assert b"old-guid-1" in client.get("/shows/moved/feed.xml").data

    result = runner.invoke(args=["import-feed", url, "--slug", "moved"])
    assert "0 imported, 2 present, 0 failed" in result.output
    url = old_host(FIRST + [("Third", "old-guid-3", "Sun, 01 May 2022 09:00:00 +0000", "aac.m4a")])
    result = runner.invoke(args=["import-feed", url, "--slug", "moved"])
    assert "1 imported, 2 present, 0 failed" in result.output
    assert db.session.query(Episode).count() == 3


def test_an_episode_that_cannot_be_fetched_is_reported_and_others_still_come(runner, old_host):
    url = old_host(FIRST + [("Gone", "gone", "Sun, 01 May 2022 09:00:00 +0000", "missing.mp3")])
    result = runner.invoke(args=["import-feed", url])
    assert result.exit_code == 1
    assert "2 imported, 0 present, 1 failed" in result.output
    assert "cannot fetch" in result.output and "Traceback" not in result.output
    assert db.session.query(Episode).filter(Episode.guid == "gone").count() == 0


def test_not_a_feed_is_a_clear_error(runner, tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><body>hello</body></html>")
    result = runner.invoke(args=["import-feed", str(page)])
    assert result.exit_code == 1 and "not an RSS feed" in result.output


def test_a_rerun_changes_nothing_the_producer_set(runner, old_host):
    url = old_host(FIRST)
    assert runner.invoke(args=["import-feed", url]).exit_code == 0
    show = db.session.query(Show).one()
    settings = replace(
        fields.show_input(show),
        private=True,
        block=True,
        title="Renamed here",
        funding=[["https://example.org/support", "Support us"]],
        people=[PersonInput(name="Ann Host", role="host")],
    )
    save_show(settings)
    url = old_host(FIRST + [("Third", "old-guid-3", "Sun, 01 May 2022 09:00:00 +0000", "aac.m4a")])
    result = runner.invoke(args=["import-feed", url])
    assert result.exit_code == 0, result.output
    assert "1 imported, 2 present, 0 failed" in result.output
    db.session.expire_all()
    show = db.session.query(Show).one()
    assert fields.show_input(show) == settings


def test_an_import_never_writes_into_a_show_it_did_not_make(runner, old_host, show):
    """The feed's title makes the slug of a show created here: refused, unless asked for explicitly."""
    url = old_host(FIRST, title="Test Show")
    before = fields.show_input(show)
    result = runner.invoke(args=["import-feed", url])
    assert result.exit_code == 1 and "already a show 'test-show'" in result.output
    assert db.session.query(Episode).count() == 0
    result = runner.invoke(args=["import-feed", url, "--into-existing"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.query(Episode).count() == 2 and fields.show_input(show) == before
    # Another feed, whatever its title, does not reach the show through the first one's record.
    other = old_host(FIRST, title="Another Show", name="other.xml")
    assert runner.invoke(args=["import-feed", other, "--slug", "test-show"]).exit_code == 1


@pytest.fixture
def guarded_runner(app_config, tmp_path):
    """The app with the default: imports may not reach private or loopback addresses."""

    from podcast_service import create_app

    app = create_app({**app_config, "import_allow_private_networks": False})
    with app.app_context():
        migrate(app)
        yield app.test_cli_runner()
        db.session.remove()
        db.engine.dispose()


def test_import_refuses_internal_addresses(guarded_runner, old_host):
    url = old_host(FIRST)
    for target in (url, url.replace("127.0.0.1", "localhost")):
        result = guarded_runner.invoke(args=["import-feed", target])
        assert result.exit_code == 1 and "private, loopback or reserved address" in result.output
        assert "Traceback" not in result.output
    assert db.session.query(Show).count() == 0


def test_every_hop_is_checked_and_only_http_is_fetched(guarded_runner, old_host, monkeypatch):
    """127.0.0.1 stands in for a public host here; 127.0.0.2 for an internal one."""
    monkeypatch.setattr(fetcher, "_address_allowed", lambda address: address == "127.0.0.1")
    port = old_host.base.rsplit(":", 1)[1]
    internal = f"http://127.0.0.2:{port}/cbr.mp3"
    url = old_host(
        [
            ("Direct", "g1", "Tue, 01 Mar 2022 09:00:00 +0000", internal),
            ("Redirected", "g2", "Wed, 02 Mar 2022 09:00:00 +0000", f"{old_host.base}/redirect?to={internal}"),
            ("Local file", "g3", "Thu, 03 Mar 2022 09:00:00 +0000", "file:///etc/passwd"),
            ("Fine", "g4", "Fri, 04 Mar 2022 09:00:00 +0000", "cbr.mp3"),
        ]
    )
    result = guarded_runner.invoke(args=["import-feed", url])
    assert "1 imported, 0 present, 3 failed" in result.output, result.output
    assert result.output.count("127.0.0.2, a private, loopback or reserved address") == 2
    assert "file:///etc/passwd is not an http(s) URL" in result.output


def test_feed_size_and_slow_servers_are_cut_off(runner, old_host, monkeypatch):
    url = old_host(FIRST)
    monkeypatch.setattr(feed_import, "FEED_MAX_BYTES", 500)
    result = runner.invoke(args=["import-feed", url])
    assert result.exit_code == 1 and "more than the limit" in result.output
    monkeypatch.setattr(feed_import, "FEED_MAX_BYTES", 10_000)
    monkeypatch.setattr(feed_import, "FEED_SECONDS", 0.5)
    result = runner.invoke(args=["import-feed", f"{old_host.base}/drip"])
    assert result.exit_code == 1 and "arrives too slowly" in result.output


def test_slugs_for_repeated_titles_cost_one_step_each():
    class CountingSet(set):
        lookups = 0

        def __contains__(self, item):
            CountingSet.lookups += 1
            return super().__contains__(item)

    allocator = feed_import.SlugAllocator(CountingSet({"bonus"}))
    slugs = []
    for _ in range(400):
        slugs.append(allocator.propose("Bonus"))
        allocator.taken.add(slugs[-1])
    assert slugs[:2] == ["bonus-2", "bonus-3"] and len(set(slugs)) == 400
    assert CountingSet.lookups <= 2 * 400


def test_a_locked_feed_is_refused_naming_its_owner_unless_the_owner_overrides(runner, old_host):
    url = old_host.write(channel('<podcast:locked owner="boss@old.example.org">yes</podcast:locked>'))
    result = runner.invoke(args=["import-feed", url])
    assert result.exit_code == 1 and "boss@old.example.org" in result.output and "--override-lock" in result.output
    assert db.session.query(Show).count() == 0
    result = runner.invoke(args=["import-feed", url, "--override-lock"])
    assert result.exit_code == 0, result.output
    assert db.session.query(Show).one().locked is True


def test_locked_no_stays_no(runner, old_host):
    url = old_host.write(channel("<podcast:locked>no</podcast:locked>"))
    assert runner.invoke(args=["import-feed", url]).exit_code == 0
    assert db.session.query(Show).one().locked is False


def test_the_show_takes_its_own_description_and_author_not_a_live_items_or_an_email(runner, old_host):
    url = old_host.write(
        channel(
            '<description><![CDATA[<p>Our <b>show</b> about <a href="https://old.example.org/about">cyber</a>.'
            "</p><p>Second paragraph.</p>]]></description>"
            "<author>someone@old.example.org (Someone)</author><itunes:author>The Real Author</itunes:author>"
            '<podcast:liveItem status="pending" start="2030-01-01T10:00:00Z" end="2030-01-01T11:00:00Z">'
            "<title>Live soon</title><description>A live item, not the show</description>"
            "<guid>live-1</guid></podcast:liveItem>"
        )
    )
    assert runner.invoke(args=["import-feed", url]).exit_code == 0
    show = db.session.query(Show).one()
    assert show.description == ("Our show about cyber (https://old.example.org/about).\n\nSecond paragraph.")
    assert show.author == "The Real Author"


def test_without_an_owner_email_the_import_says_so_and_takes_one_given_or_the_locks(runner, old_host):
    url = old_host.write(channel(owner=""))
    result = runner.invoke(args=["import-feed", url])
    assert result.exit_code == 1 and "--owner-email" in result.output and "cover" not in result.output
    assert db.session.query(Show).count() == 0
    assert runner.invoke(args=["import-feed", url, "--owner-email", "me@new.example.org"]).exit_code == 0
    assert db.session.query(Show).one().owner_email == "me@new.example.org"
    url = old_host.write(
        channel('<podcast:locked owner="lock@old.example.org">no</podcast:locked>', owner=""), name="locked-owner.xml"
    )
    assert runner.invoke(args=["import-feed", url, "--slug", "second"]).exit_code == 0
    assert db.session.query(Show).filter(Show.slug == "second").one().owner_email == "lock@old.example.org"


def test_a_long_cyrillic_summary_is_cut_on_bytes_at_a_sentence(runner, old_host):
    sentence = "Это предложение о кибербезопасности в Бельгии. "
    summary = sentence * 120  # about 10,000 bytes
    items = item(f"<description>{summary}</description>")
    url = old_host.write(channel(items=items))
    result = runner.invoke(args=["import-feed", url])
    assert result.exit_code == 0, result.output
    episode = db.session.query(Episode).one()
    assert len(episode.summary.encode()) <= 4000 and episode.summary.endswith("Бельгии.…")


def test_a_feed_whose_enclosures_all_fail_creates_nothing(runner, old_host, storage):
    items = "".join(
        f"<item><title>Gone {n}</title><guid>gone-{n}</guid>"
        f'<enclosure url="{{base}}/missing-{n}.mp3" type="audio/mpeg" length="1"/></item>'
        for n in range(3)
    )
    (old_host.root / "cover.jpg").write_bytes((DEMO_EPISODES / "cover.jpg").read_bytes())
    url = old_host.write(channel('<itunes:image href="{base}/cover.jpg"/>', items=items))
    result = runner.invoke(args=["import-feed", url])
    assert result.exit_code == 1 and "not created" in result.output
    assert db.session.query(Show).count() == 0 and db.session.query(Episode).count() == 0
    assert list(storage.keys()) == []  # the cover art it stored went with the show


def _shape(fragment: str) -> list[tuple[str, str]]:
    """An HTML fragment's elements and their text, whitespace folded: what 'equal after sanitising' means."""
    from lxml import html as lxml_html

    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    return [(e.tag, " ".join((e.text or "").split())) for e in root.iter() if e is not root]


def test_html_show_notes_arrive_as_the_same_sanitised_html(runner, old_host, client):
    import nh3

    from podcast_service.core.markup import ALLOWED_TAGS

    notes = (
        '<p>Prime Minister <strong>Alexander De Croo</strong> on <a href="https://example.org/r">the '
        "report</a>.</p><ul><li>One</li><li>Two <em>points</em></li></ul><h3>Chapters</h3>"
        "<blockquote><p>A quote</p></blockquote><p>Line<br>break</p>"
        '<script>alert(1)</script><img src="x" onerror="alert(2)">'
    )
    items = item(
        f"<description>Short text.</description><content:encoded><![CDATA[{notes}]]></content:encoded>"
    ) + item(
        "<description>First line\nsecond line, see https://example.org/a_b</description>",
        title="Two",
        guid="g-2",
        date="Wed, 02 Mar 2022 09:00:00 +0000",
    )
    url = old_host.write(channel(items=items))
    assert runner.invoke(args=["import-feed", url]).exit_code == 0
    one, two = db.session.query(Episode).order_by(Episode.published_at).all()
    expected = nh3.clean(notes, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}})
    assert _shape(one.notes_html) == _shape(expected)
    assert "&lt;p&gt;" not in one.notes_html and "alert" not in one.notes_html
    assert one.summary == "Short text."
    page = client.get(f"/shows/moving-show/{one.slug}/").text
    assert "<strong>Alexander De Croo</strong>" in page and "&lt;strong&gt;" not in page
    # A plain description keeps its line breaks and its link.
    assert "<br>" in two.notes_html and 'href="https://example.org/a_b"' in two.notes_html


CHAPTERS_JSON = (
    '{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Start"}, '
    '{"startTime": 2.5, "title": "Later", "url": "https://example.org/later"}]}'
)
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nHello from the old host.\n\n00:00:02.000 --> 00:00:04.000\nBye.\n"


@pytest.fixture
def tagged(runner, old_host):
    """A feed using the Podcasting 2.0 tags the service models, imported: (the show, the episode)."""
    (old_host.root / "chapters.json").write_text(CHAPTERS_JSON)
    (old_host.root / "transcript.vtt").write_text(VTT)
    (old_host.root / "episode.jpg").write_bytes((DEMO_EPISODES / "cover.jpg").read_bytes())
    show_tags = (
        '<podcast:person role="host" href="https://example.org/ann" img="https://example.org/ann.jpg">Ann Host'
        '</podcast:person><podcast:funding url="https://example.org/support">Support us</podcast:funding>'
        '<podcast:location geo="geo:50.8466,4.3528" osm="R54094">Brussels</podcast:location>'
        '<podcast:license url="https://creativecommons.org/licenses/by/4.0/">cc-by-4.0</podcast:license>'
        '<podcast:txt purpose="verify">S6lpp-7ZCn8-dZfGc-OoyaG</podcast:txt><podcast:medium>podcast</podcast:medium>'
        '<podcast:updateFrequency rrule="FREQ=MONTHLY">Monthly</podcast:updateFrequency>'
        '<podcast:podroll><podcast:remoteItem feedGuid="917393e3-1b1e-5cef-ace4-edaa54e1f810"/></podcast:podroll>'
    )
    tagged_item = item(
        '<podcast:season name="Year three">3</podcast:season><podcast:episode>12</podcast:episode>'
        '<podcast:person role="guest" group="cast">Guest Person</podcast:person>'
        '<podcast:soundbite startTime="1.5" duration="2.0">The best bit</podcast:soundbite>'
        '<podcast:chapters url="{base}/chapters.json" type="application/json+chapters"/>'
        '<podcast:transcript url="{base}/transcript.html" type="text/html"/>'
        '<podcast:transcript url="{base}/transcript.vtt" type="text/vtt"/>'
        '<itunes:image href="{base}/episode.jpg"/>',
        title="Tagged",
        guid="tagged-1",
    )
    url = old_host.write(channel(show_tags, items=tagged_item))
    result = runner.invoke(args=["import-feed", url])
    assert result.exit_code == 0, result.output
    return db.session.query(Show).one(), db.session.query(Episode).one()


def test_podcasting_tags_of_the_show_and_its_episodes_arrive_and_are_published(tagged, client):
    show, episode = tagged
    assert [(c.name, c.role) for c in show.credits] == [("Ann Host", "host")]
    assert show.funding == [["https://example.org/support", "Support us"]]
    assert (show.location_name, show.location_geo, show.location_osm) == ("Brussels", "geo:50.8466,4.3528", "R54094")
    assert (show.license, show.license_url) == ("cc-by-4.0", "https://creativecommons.org/licenses/by/4.0/")
    assert show.txt == [["S6lpp-7ZCn8-dZfGc-OoyaG", "verify"]] and show.update_frequency == "FREQ=MONTHLY"
    assert show.podroll == [["917393e3-1b1e-5cef-ace4-edaa54e1f810", None]]
    assert show.season_names == {"3": "Year three"}
    assert (episode.season, episode.number) == (3, 12)
    assert [(c.name, c.role) for c in episode.credits] == [("Guest Person", "guest")]
    assert episode.soundbites == [[1.5, 2.0, "The best bit"]]
    assert [(c.start, c.title) for c in episode.chapters] == [(0.0, "Start"), (2.5, "Later")]
    assert episode.transcript_cues[0][2] == "Hello from the old host."  # the VTT, chosen over the HTML
    assert episode.image is not None and episode.image.sha256
    feed = client.get(f"/shows/{show.slug}/feed.xml").text
    for published in (
        "Ann Host",
        "Guest Person",
        "The best bit",
        "Brussels",
        "cc-by-4.0",
        "Support us",
        "S6lpp-7ZCn8-dZfGc-OoyaG",
        "917393e3-1b1e-5cef-ace4-edaa54e1f810",
        ">3</podcast:season>",
        "chapters.json",
        "transcript.vtt",
    ):
        assert published in feed, published


def test_what_arrived_is_read_back_from_our_feed_by_the_apps_parsers(tagged, client):
    """podcastparser (gPodder), feedparser and podcast-partytime (the Podcast Index's) each find it."""
    show, episode = tagged
    data = client.get(f"/shows/{show.slug}/feed.xml").data
    page = f"{BASE_URL}/shows/{show.slug}/{episode.slug}"

    [one] = podcastparser.parse(BASE_URL + "/feed.xml", io.BytesIO(data))["episodes"]
    assert (one["guid"], one["title"], one["number"], one["type"]) == ("tagged-1", "Tagged", 12, "full")
    assert one["published"] == int(datetime(2022, 3, 1, 9, tzinfo=UTC).timestamp())
    assert one["episode_art_url"].startswith(BASE_URL + "/media/")
    assert one["enclosures"][0]["file_size"] == episode.audio.size
    # podcastparser 0.6.11 (the latest) knows the podcast: namespace only by its former address.
    legacy = data.replace(
        PODCAST_NS.encode(), b"https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
    )
    gpodder = podcastparser.parse(BASE_URL + "/feed.xml", io.BytesIO(legacy))
    assert gpodder["funding_url"] == "https://example.org/support"
    [one] = gpodder["episodes"]
    assert one["chapters_json_url"] == page + "/chapters.json"
    assert one["transcript_url"].startswith(page + "/transcript.")
    assert [(p["name"], p["role"]) for p in one["persons"]] == [("Guest Person", "guest")]

    entry = feedparser.parse(data).entries[0]
    assert (entry.id, entry.podcast_episode, entry.podcast_season) == ("tagged-1", "12", {"name": "Year three"})
    assert entry.itunes_episode == "12" and entry.itunes_season == "3"
    assert entry.podcast_soundbite == {"starttime": "1.5", "duration": "2"}

    feed = partytime(data)
    assert feed["podcastPeople"] == [
        {
            "name": "Ann Host",
            "role": "Host",
            "group": "Cast",
            "img": "https://example.org/ann.jpg",
            "href": "https://example.org/ann",
        }
    ]
    assert feed["podcastFunding"] == [{"message": "Support us", "url": "https://example.org/support"}]
    assert feed["podcastLocation"] == {"name": "Brussels", "geo": "geo:50.8466,4.3528", "osm": "R54094"}
    assert feed["license"] == {"identifier": "cc-by-4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}
    assert feed["podcastTxt"] == [{"value": "S6lpp-7ZCn8-dZfGc-OoyaG", "purpose": "verify"}]
    assert feed["podroll"] == [{"feedGuid": "917393e3-1b1e-5cef-ace4-edaa54e1f810"}]
    assert feed["medium"] == "podcast" and feed["podcastSeasons"]["3"] == {"number": 3, "name": "Year three"}
    [item_] = feed["items"]
    assert item_["podcastSeason"] == {"number": 3, "name": "Year three"} and item_["podcastEpisode"] == {"number": 12}
    assert item_["podcastSoundbites"] == [{"startTime": 1.5, "duration": 2, "title": "The best bit"}]
    assert item_["podcastPeople"] == [{"name": "Guest Person", "role": "Guest", "group": "Cast"}]
    assert item_["podcastChapters"] == {"url": page + "/chapters.json", "type": "application/json+chapters"}
    assert "text/vtt" in {t["type"] for t in item_["podcastTranscripts"]}


def test_broken_side_files_cost_only_themselves(runner, old_host):
    (old_host.root / "bad-chapters.json").write_text("{not json")
    partly = item(
        '<podcast:chapters url="{base}/bad-chapters.json" type="application/json+chapters"/>'
        '<podcast:transcript url="{base}/missing.vtt" type="text/vtt"/>',
        title="Partly",
        guid="partly-1",
    )
    result = runner.invoke(args=["import-feed", old_host.write(channel(items=partly))])
    assert result.exit_code == 0, result.output
    assert "chapters:" in result.output and "transcript:" in result.output
    episode = db.session.query(Episode).one()
    assert episode.transcript is None and episode.audio.sha256


def test_retired_apple_categories_are_mapped_and_the_producer_is_told(runner, old_host):
    url = old_host.write(
        channel().replace(
            '<itunes:category text="Technology"/>',
            '<itunes:category text="Games &amp; Hobbies"><itunes:category text="Video Games"/></itunes:category>'
            '<itunes:category text="Technology"><itunes:category text="Tech News"/></itunes:category>',
        )
    )
    result = runner.invoke(args=["import-feed", url])
    assert result.exit_code == 0, result.output
    assert db.session.query(Show).one().categories == [["Leisure", "Video Games"], ["News", "Tech News"]]
    assert "'Games & Hobbies > Video Games' is retired: imported as 'Leisure > Video Games'" in result.output
    assert "'Technology > Tech News' is retired: imported as 'News > Tech News'" in result.output


def test_a_cover_apple_would_refuse_is_fitted_and_the_producer_told(runner, old_host, storage):
    from io import BytesIO

    from PIL import Image

    Image.new("RGB", (1600, 900), (10, 120, 130)).save(old_host.root / "wide.png")
    url = old_host.write(channel('<itunes:image href="{base}/wide.png"/>'))
    result = runner.invoke(args=["import-feed", url])
    assert result.exit_code == 0, result.output
    assert "cover art 1600×900 fitted to 1600×1600" in result.output
    show = db.session.query(Show).one()
    with Image.open(BytesIO(storage.read_bytes(show.image.key))) as art:
        assert art.size == (1600, 1600) and art.mode == "RGB"


def test_alternate_enclosures_arrive_as_renditions(runner, old_host, client):
    (old_host.root / "opus.opus").write_bytes((AUDIO / "opus.opus").read_bytes())
    two = item(
        '<podcast:alternateEnclosure type="audio/mpeg" length="1" default="true">'
        '<podcast:source uri="{base}/cbr.mp3"/></podcast:alternateEnclosure>'
        '<podcast:alternateEnclosure type="audio/opus" length="1" bitrate="32000">'
        '<podcast:source uri="ipfs://bafy-not-fetched"/><podcast:source uri="{base}/opus.opus"/>'
        "</podcast:alternateEnclosure>"
        '<podcast:alternateEnclosure type="audio/aac" length="1"><podcast:source uri="{base}/gone.m4a"/>'
        "</podcast:alternateEnclosure>",
        title="Two files",
        guid="two-1",
    )
    result = runner.invoke(args=["import-feed", old_host.write(channel(items=two))])
    assert result.exit_code == 0, result.output
    assert "alternate enclosure" in result.output and "gone.m4a" in result.output
    episode = db.session.query(Episode).one()
    assert [a.media.extension for a in episode.alternates] == [".opus"]  # the enclosure is not added twice
    assert "podcast:alternateEnclosure" in client.get(f"/shows/{episode.show.slug}/feed.xml").text


@pytest.mark.parametrize(
    "host",
    [
        "[::127.0.0.1]",  # IPv4-compatible
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[::ffff:0:127.0.0.1]",  # IPv4-translated
        "[64:ff9b::a9fe:a9fe]",  # NAT64 to the cloud metadata address
        "[64:ff9b:1::a00:1]",  # local-use NAT64 to 10.0.0.1
        "[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
        "[::ffff:a9fe:a9fe]",
    ],
)
def test_import_refuses_internal_ipv4_written_as_ipv6(guarded_runner, host):
    result = guarded_runner.invoke(args=["import-feed", f"http://{host}/feed.xml"])
    assert result.exit_code == 1 and "private, loopback or reserved address" in result.output, result.output
    assert "Traceback" not in result.output
    assert db.session.query(Show).count() == 0
