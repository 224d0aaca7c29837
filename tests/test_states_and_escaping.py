"""Drafts, scheduled and unpublished episodes stay private; tag text is shown as text everywhere."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
import time_machine
from fixtures.app import AUDIO, fetch, multipart
from lxml import etree
from mutagen.id3 import COMM, ID3, TIT2

from podcast_service.core import urls
from podcast_service.models import utcnow

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


@pytest.mark.parametrize("state", ["draft", "scheduled", "unpublished"])
def test_a_non_public_episode_is_in_no_page_feed_or_media_url(client, make_episode, state):
    published_at = {"draft": None, "scheduled": utcnow() + timedelta(days=1), "unpublished": "past"}[state]
    episode = make_episode(published_at=published_at, title="Secret episode", withdrawn=state == "unpublished")
    assert episode.status.value == state
    path = urls.audio_url(episode).removeprefix("https://podcasts.example.org")
    for url in ("/", "/shows/test-show/", "/shows/test-show/feed.xml"):
        assert "Secret episode" not in client.get(url).get_data(as_text=True), url
    assert client.get(f"/shows/test-show/{episode.slug}/").status_code == 404
    assert client.get(f"/shows/test-show/{episode.slug}/chapters.json").status_code == 404
    assert fetch(client, path).status == 404
    # The private preview link shows it, with its audio, and asks not to be indexed or cached.
    preview = client.get(urls.preview_url(episode).removeprefix("https://podcasts.example.org"))
    assert preview.status_code == 200 and "Secret episode" in preview.get_data(as_text=True)
    assert preview.headers["X-Robots-Tag"] == "noindex, nofollow"
    media = fetch(client, f"{path}?preview={episode.preview_key}", Range="bytes=0-99")
    assert media.status == 206 and len(media.data) == 100
    assert fetch(client, f"{path}?preview={'x' * 43}").status == 404


def test_a_scheduled_episode_goes_live_at_its_time(client, make_episode):
    at = utcnow() + timedelta(hours=1)
    episode = make_episode(published_at=at, title="Soon")
    assert b"Soon" not in client.get("/shows/test-show/feed.xml").data
    with time_machine.travel(at + timedelta(seconds=1), tick=True):  # the clock passes the time, nobody waits
        assert b"Soon" in client.get("/shows/test-show/feed.xml").data
        assert client.get(f"/shows/test-show/{episode.slug}/").status_code == 200


def test_html_in_id3_tags_is_text_on_every_page_and_escaped_in_the_feed(
    client, signed_in, show, tmp_path, admin_headers
):
    audio = tmp_path / "tagged.mp3"
    shutil.copy(AUDIO / "cbr.mp3", audio)
    tags = ID3()
    tags.add(TIT2(encoding=3, text=HOSTILE))
    tags.add(COMM(encoding=3, lang="eng", desc="", text=HOSTILE))
    tags.save(audio)
    r = client.post(
        "/api/v1/shows/test-show/episodes",
        headers=admin_headers,
        **multipart(audio=(audio.read_bytes(), "tagged.mp3"), status="published"),
    )
    assert r.status_code == 201
    episode = r.get_json()
    assert episode["title"] == HOSTILE
    pages = [
        "/",
        "/shows/test-show/",
        f"/shows/test-show/{episode['slug']}/",
        "/admin/shows/test-show/",
        f"/admin/shows/test-show/episodes/{episode['id']}/",
    ]
    for page in pages:
        html = signed_in.get(page).get_data(as_text=True)
        assert "<script>alert" not in html and "<b>bold</b>" not in html, page
        if page != "/":  # the home page lists shows, not episode titles
            assert "&lt;script&gt;" in html, page
    feed = etree.fromstring(client.get("/shows/test-show/feed.xml").data)
    assert feed.findtext("channel/item/title") == HOSTILE  # the parser reads the text back exactly
    assert feed.find("channel/item/title") is not None and len(feed.find("channel/item/title")) == 0
