"""Public pages in the show's language, or the one the visitor chose in the address: never by cookie."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from lxml import html

from podcast_service.audio.probe import ChapterInfo
from podcast_service.extensions import db

BASE = "https://podcasts.example.org"


@pytest.fixture
def french(show, make_episode):  # noqa: ANN001, ANN201
    """A Belgian French show with an episode that has chapters, published on 3 May 2021."""
    show.language = "fr-BE"
    db.session.commit()
    return make_episode(title="Façonner l’avenir numérique", slug="avenir", season=1, number=2,
                        published_at=datetime(2021, 5, 3, 9, tzinfo=UTC),
                        chapters=[ChapterInfo(0.0, None, "Début"), ChapterInfo(1.0, None, "Suite")])


def page(client, path: str):  # noqa: ANN001, ANN201
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    return response, html.fromstring(response.data)


def chrome(tree) -> str:  # noqa: ANN001
    """The page's own words: everything but what the producer wrote (marked with the show's language)."""
    for node in tree.xpath("//*[@lang and not(self::html)]"):
        if node.getparent() is not None:
            node.getparent().remove(node)
    return " ".join(tree.xpath("//body//text()[not(ancestor::script) and not(ancestor::template)]"))


def test_an_episode_page_speaks_its_shows_language(client, french):
    _, tree = page(client, "/shows/test-show/avenir/")
    assert tree.get("lang") == "fr"
    assert tree.xpath("//h1/@lang") == ["fr-BE"]  # the title is the producer's words, in the show's language
    text = chrome(tree)
    assert "Chapitres" in text and "Saison 1, épisode 2" in text and "3 mai 2021" in text
    assert "Chapters" not in text and "Season" not in text
    controls = tree.xpath("//template[@id='player-controls']")[0]
    assert "Vitesse" in html.tostring(controls, encoding="unicode")


@pytest.mark.parametrize(("language", "words", "date"), [
    ("nl", ("Hoofdstukken", "Seizoen 1, aflevering 2"), "3 mei 2021"),
    ("de", ("Kapitel", "Staffel 1, Folge 2"), "3. Mai 2021"),
    ("en", ("Chapters", "Season 1, episode 2"), "3 May 2021"),
])
def test_the_visitor_chooses_another_language_in_the_address(client, french, language, words, date):
    response, tree = page(client, f"/shows/test-show/avenir/?lang={language}")
    assert tree.get("lang") == language
    # Links to other public pages keep the choice.
    assert tree.xpath("//a[@href='/shows/test-show/?lang=%s']" % language) and tree.xpath(
        "//header//a[@href='/?lang=%s']" % language)
    text = chrome(tree)
    assert all(word in text for word in words) and date in text
    assert "Chapitres" not in text


def test_every_page_names_its_versions_in_each_language(client, french):
    for path in ("/shows/test-show/", "/shows/test-show/avenir/", "/shows/test-show/search?q=avenir"):
        _, tree = page(client, path)
        alternates = dict(zip(tree.xpath("//link[@hreflang]/@hreflang"), tree.xpath("//link[@hreflang]/@href")))
        assert set(alternates) == {"en", "nl", "fr", "de"}
        assert "lang=" not in alternates["fr"]  # the show's own language: the plain address
        assert alternates["nl"].startswith(BASE + path.split("?")[0]) and "lang=nl" in alternates["nl"]
        if "?q=" in path:
            assert "q=avenir" in alternates["de"]  # the rest of the address is kept
        switch = tree.xpath("//nav[@class='languages']")[0]
        assert [a.get("hreflang") for a in switch.xpath(".//a")] == ["en", "nl", "de"]
        assert switch.xpath(".//span[@aria-current]/text()") == ["Français"]


def test_an_unknown_language_falls_back_to_the_shows(client, french):
    for junk in ("xx", "../../etc", "fr-BE<script>", ""):
        _, tree = page(client, f"/shows/test-show/avenir/?lang={junk}")
        assert tree.get("lang") == "fr"


def test_error_pages_and_the_embed_speak_the_chosen_language(client, french):
    response = client.get("/shows/test-show/no-such-episode/?lang=de")
    assert response.status_code == 404
    tree = html.fromstring(response.data)
    assert tree.get("lang") == "de" and "Nicht gefunden" in tree.findtext(".//h1")
    assert "Unter dieser Adresse gibt es keine veröffentlichte Folge." in response.text
    response = client.get("/no/such/page?lang=nl")
    assert response.status_code == 404 and "Op dit adres staat niets." in response.text
    _, tree = page(client, "/shows/test-show/avenir/embed?lang=nl")
    assert tree.get("lang") == "nl" and tree.xpath("//ol/@aria-label") == ["Hoofdstukken"]
    _, tree = page(client, "/shows/test-show/avenir/embed")
    assert tree.get("lang") == "fr"


def test_the_api_stays_english(client, french, admin_headers):
    response = client.get("/api/v1/shows/nope", headers={**admin_headers, "Accept-Language": "fr"})
    assert response.status_code == 404 and re.search(r"[Nn]o show|not found", response.json["error"]["message"])
