"""Polling the feed: validators, 304s, gzip, one build per change shared by every process, scheduled episodes."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import timedelta

import pytest
import time_machine
from fixtures.app import AUDIO
from lxml import etree
from sqlalchemy import event

from podcast_service import create_app
from podcast_service.catalogue.inputs import EpisodeInput, PersonInput, ShowInput
from podcast_service.catalogue.service import episode_input, save_episode, save_show
from podcast_service.core.extensions import db
from podcast_service.feed import cache
from podcast_service.models import CachedFeed, Show, utcnow

FEED = "/shows/test-show/feed.xml"


def titles(data: bytes) -> list[str]:
    return etree.fromstring(data).xpath("//item/title/text()")


@pytest.fixture
def builds(monkeypatch):
    """Counts feed builds, whichever app or process-like instance does them."""
    calls = []
    real = cache.build_feed
    monkeypatch.setattr(cache, "build_feed", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_200_then_304_and_a_change_gives_a_new_etag(client, make_episode):
    make_episode(title="First")
    first = client.get(FEED)
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    assert first.cache_control.public and first.cache_control.max_age == 300
    assert "Accept-Encoding" in first.headers["Vary"]

    again = client.get(FEED, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(FEED, headers={"If-Modified-Since": modified}).status_code == 304

    make_episode(title="Second")
    changed = client.get(FEED, headers={"If-None-Match": etag, "If-Modified-Since": modified})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.last_modified > first.last_modified
    assert titles(changed.data) == ["First", "Second"]  # make_episode dates each one an hour earlier
    assert client.get(FEED, headers={"If-Modified-Since": modified}).status_code == 200


def test_gzip_when_asked(client, make_episode):
    make_episode()
    plain = client.get(FEED)
    zipped = client.get(FEED, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data)
    assert zipped.headers["ETag"] != plain.headers["ETag"]  # another representation, another strong tag
    assert (
        client.get(FEED, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}).status_code
        == 304
    )


def test_built_once_per_change_and_shared_by_every_process(app, app_config, client, make_episode, builds):
    make_episode(title="One")
    for _ in range(5):
        assert client.get(FEED).status_code == 200
    assert len(builds) == 1

    other = create_app(app_config)  # a second worker process on the same database
    other_client = other.test_client()
    response = other_client.get(FEED)
    assert response.status_code == 200 and titles(response.data) == ["One"]
    assert len(builds) == 1

    make_episode(title="Two")  # the change marks the shared copy stale in its own transaction
    with app.app_context():
        assert db.session.get(CachedFeed, 1).stale
    assert sorted(titles(other_client.get(FEED).data)) == ["One", "Two"]
    assert sorted(titles(client.get(FEED).data)) == ["One", "Two"]
    assert len(builds) == 2
    with other.app_context():
        db.engine.dispose()


def test_two_apps_in_one_process_keep_their_own_copies_of_feeds_with_the_same_show_id(
    app, client, make_episode, show, other_instance
):
    """Show ids repeat across databases: a process serving two apps (or the tests, or a bench) must not take
    one app's copy of feed 1 for the other's, nor read the feed's bytes from the database at every poll."""
    make_episode(title="Here")
    here = show.id  # read in this app's context: inside the other's, the refresh would go to its database
    other = other_instance()
    with other.app_context():
        there = save_show(
            ShowInput(
                slug="test-show",
                title="Another",
                description="Another database's show.",
                author="Else",
                owner_name="Else",
                owner_email="else@example.org",
                categories=["Technology"],
            )
        )
        save_episode(there, EpisodeInput(title="There", published_at=utcnow() - timedelta(hours=1)), AUDIO / "cbr.mp3")
        assert there.id == here
    other_client = other.test_client()
    assert titles(client.get(FEED).data) == ["Here"]
    assert titles(other_client.get(FEED).data) == ["There"]
    bodies_read = []
    event.listen(
        db.engine,
        "before_cursor_execute",
        lambda *args: bodies_read.append(args[2]) if "cached_feeds.body" in args[2] else None,
    )
    assert titles(client.get(FEED).data) == ["Here"]
    assert titles(other_client.get(FEED).data) == ["There"]
    assert bodies_read == []


def test_editing_an_episode_or_a_person_invalidates(client, make_episode, show):
    episode = make_episode(title="Before", people=[PersonInput(name="Ann Guest")])
    client.get(FEED)
    save_episode(show, replace(episode_input(episode), title="After"), existing=episode)
    assert titles(client.get(FEED).data) == ["After"]

    credit = episode.credits[0]
    credit.img = "https://example.org/ann.jpg"
    db.session.commit()
    person = etree.fromstring(client.get(FEED).data).find(".//{https://podcastindex.org/namespace/1.0}person")
    assert person.get("img") == "https://example.org/ann.jpg"


def test_a_scheduled_episode_appears_at_its_time_with_no_request_in_between(client, make_episode):
    make_episode(title="Out already")
    at = utcnow() + timedelta(hours=1)
    make_episode(title="Coming", published_at=at)
    before = client.get(FEED)
    assert titles(before.data) == ["Out already"]
    with time_machine.travel(at + timedelta(seconds=1), tick=True):  # nobody asks for the feed meanwhile
        after = client.get(FEED, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert titles(after.data) == ["Coming", "Out already"]


def test_a_change_during_a_build_is_not_hidden_by_it(app, client, make_episode, show, monkeypatch):
    """A producer's commit that lands while a request builds the feed leaves it stale, not stale-and-cached."""
    make_episode(title="Old")
    real, show_id = cache.build_feed, show.id

    def build_while_someone_publishes(*args, **kwargs):
        body = real(*args, **kwargs)
        with app.app_context():  # another request, in its own session, commits meanwhile
            save_episode(
                db.session.get(Show, show_id),
                EpisodeInput(title="New", published_at=utcnow() - timedelta(minutes=1)),
                AUDIO / "cbr.mp3",
            )
        return body

    monkeypatch.setattr(cache, "build_feed", build_while_someone_publishes)
    assert titles(client.get(FEED).data) == ["Old"]  # what that request saw
    monkeypatch.setattr(cache, "build_feed", real)
    assert titles(client.get(FEED).data) == ["New", "Old"]  # not the copy built before the commit


def test_show_page_names_the_feed_and_opml_lists_public_shows(client, make_episode):
    make_episode()
    page = client.get("/shows/test-show/").text
    assert 'class="feed-url" type="text" readonly value="https://podcasts.example.org/shows/test-show/feed.xml"' in page
    opml = etree.fromstring(client.get("/opml.xml").data)
    [outline] = opml.xpath("//outline")
    assert outline.get("xmlUrl") == "https://podcasts.example.org/shows/test-show/feed.xml"
    assert outline.get("text") == "Test Show" and outline.get("type") == "rss"
