"""Pages a web visitor sees: home, show, episode with player, chapters, people, links, transcript."""

from __future__ import annotations

from datetime import timedelta

import lxml.html
import pytest
from fixtures.app import AUDIO, BASE_URL

from podcast_service.catalogue.inputs import EpisodeInput
from podcast_service.catalogue.service import save_episode
from podcast_service.core import urls
from podcast_service.models import utcnow

SHOW = "/shows/cyber-security-coalition/"
EPISODE = SHOW + "shaping-belgiums-digital-future/"


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/html"
    return lxml.html.fromstring(response.data)


def test_home_lists_the_show_and_announces_its_feed(client, demo):
    doc = page(client, "/")
    assert doc.xpath("//h2/a/text()") == ["Cyber Security Coalition Podcast"]
    assert doc.xpath("//link[@rel='alternate' and @type='application/rss+xml']/@href") == [BASE_URL + SHOW + "feed.xml"]


def test_show_page_lists_published_episodes_only(client, demo):
    demo_show = demo.show
    save_episode(demo_show, EpisodeInput(title="Unreleased draft"), AUDIO / "cbr.mp3")
    save_episode(
        demo_show, EpisodeInput(title="Next week", published_at=utcnow() + timedelta(days=7)), AUDIO / "cbr.mp3"
    )
    doc = page(client, SHOW)
    assert doc.xpath("//article//h3/a/text()") == ["Shaping Belgium's digital future"]
    assert doc.xpath("//link[@rel='alternate' and not(@hreflang)]/@href") == [BASE_URL + SHOW + "feed.xml"]
    assert BASE_URL + SHOW + "feed.xml" in doc.text_content()


def test_episode_page_has_everything_a_visitor_needs(client, demo):
    doc = page(client, EPISODE)
    assert doc.xpath("//h1/text()") == ["Shaping Belgium's digital future"]
    assert doc.xpath("//time/@datetime") == [demo.published_at.isoformat()]
    assert doc.xpath("//time/text()") == ["1 March 2022"]
    minutes, seconds = divmod(round(demo.audio.duration), 60)
    assert doc.xpath("//span[@class='duration']/text()") == [f"{minutes}:{seconds:02d}"]
    assert doc.xpath("//audio/@src") == [urls.audio_url(demo)]
    assert doc.xpath("//link[@rel='alternate' and @type='application/rss+xml']/@href") == [BASE_URL + SHOW + "feed.xml"]
    # The report it belongs to is a prominent link.
    report = doc.xpath("//a[@class='report']")
    assert [a.text for a in report] == ["2021 activity report of the Cyber Security Coalition"]
    assert report[0].get("href").startswith("https://annualreport.cybersecuritycoalition.be/")
    # Chapters seek the player.
    chapters = doc.xpath("//section[contains(@class,'chapters')]//a[@data-start]")
    assert [float(a.get("data-start")) for a in chapters] == [c.start for c in demo.chapters]
    assert "We are reaching more and more Belgians" in chapters[1].text_content()
    # Each is a link to its time, so it works as a shared link and without the script.
    assert [a.get("href") for a in chapters] == [f"#t={round(c.start, 3)}" for c in demo.chapters]
    people = doc.xpath("//section[contains(@class,'people')]//li")
    assert "Alexander De Croo" in people[0].text_content()
    assert "Prime Minister of Belgium" in people[0].text_content()
    notes = doc.xpath("//section[contains(@class,'notes')]")[0]
    assert notes.xpath(".//strong/text()")[0] == "cyber security strategy 2.0"
    transcript = doc.xpath("//section[contains(@class,'transcript')]")[0]
    assert "Shaping Belgium's digital future." in transcript.text_content()


def test_hostile_metadata_is_shown_as_text(client, make_episode, show):
    episode = make_episode(
        "vbr_noxing_tagged.mp3",
        title="<script>alert('t')</script>",
        summary="<img src=x onerror=alert(1)>",
        notes="<script>alert('n')</script>\n\n[click](javascript:alert(1))",
    )
    response = client.get(f"/shows/{show.slug}/{episode.slug}/")
    assert response.status_code == 200
    assert b"<script>alert" not in response.data
    assert b"<img src=x" not in response.data
    assert not lxml.html.fromstring(response.data).xpath("//a[starts-with(@href, 'javascript')]")
    doc = lxml.html.fromstring(response.data)
    assert doc.xpath("//h1/text()") == ["<script>alert('t')</script>"]


def test_chapters_json(client, demo):
    response = client.get(EPISODE + "chapters.json")
    assert response.status_code == 200
    doc = response.get_json(force=True)
    assert doc["version"] == "1.2.0"
    assert [c["title"] for c in doc["chapters"]][2] == "A new Belgian cyber security strategy"


@pytest.mark.parametrize("path", ["/shows/nope/", SHOW + "nope/", "/nothing-here"])
def test_missing_pages_are_friendly_404s(client, demo, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b"All podcasts" in response.data


def test_draft_episode_page_is_404(client, make_episode, show):
    draft = make_episode(published_at=None)
    assert client.get(f"/shows/{show.slug}/{draft.slug}/").status_code == 404


def test_transcript_is_rendered_from_cues_kept_at_import(client, demo, storage):
    """Pages never fetch the transcript file: with S3 that would be a request per page view."""
    storage.delete(demo.transcript.key)
    doc = page(client, EPISODE)
    transcript = doc.xpath("//section[contains(@class,'transcript')]")[0]
    assert "2021: activity report of the Cyber Security Coalition." in transcript.text_content()
    assert float(transcript.xpath(".//p[@data-start]/@data-start")[1]) == demo.transcript_cues[1][0]
    assert transcript.xpath(".//p[@data-start]/a/@href")[1] == f"#t={round(demo.transcript_cues[1][0], 3)}"
