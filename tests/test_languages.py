"""Public pages in the show's language, or the one the visitor chose in the address: never by cookie."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fixtures.app import AUDIO, PASSWORD, csrf_token, sign_in
from lxml import html

from podcast_service.accounts import service as accounts
from podcast_service.catalogue.inputs import EpisodeInput, ShowInput
from podcast_service.catalogue.service import save_episode, save_show
from podcast_service.core.extensions import db
from podcast_service.media.audio.probe import ChapterInfo
from podcast_service.models import Show

BASE = "https://podcasts.example.org"


@pytest.fixture
def french(show, make_episode):
    """A Belgian French show with an episode that has chapters, published on 3 May 2021."""
    show.language = "fr-BE"
    db.session.commit()
    return make_episode(
        title="Façonner l’avenir numérique",
        slug="avenir",
        season=1,
        number=2,
        published_at=datetime(2021, 5, 3, 9, tzinfo=UTC),
        chapters=[ChapterInfo(0.0, None, "Début"), ChapterInfo(1.0, None, "Suite")],
    )


def page(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    return response, html.fromstring(response.data)


def chrome(tree) -> str:
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


@pytest.mark.parametrize(
    ("language", "words", "date"),
    [
        ("nl", ("Hoofdstukken", "Seizoen 1, aflevering 2"), "3 mei 2021"),
        ("de", ("Kapitel", "Staffel 1, Folge 2"), "3. Mai 2021"),
        ("en", ("Chapters", "Season 1, episode 2"), "3 May 2021"),
    ],
)
def test_the_visitor_chooses_another_language_in_the_address(client, french, language, words, date):
    response, tree = page(client, f"/shows/test-show/avenir/?lang={language}")
    assert tree.get("lang") == language
    # Links to other public pages keep the choice.
    assert tree.xpath(f"//a[@href='/shows/test-show/?lang={language}']") and tree.xpath(
        f"//header//a[@href='/?lang={language}']"
    )
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


@pytest.fixture
def paired(app, client, signed_in, make_episode, french):
    """A Dutch show beside the French one, paired by their producer, with the same episode in both."""
    dutch = save_show(
        ShowInput(
            slug="nl-show",
            title="Nederlandse versie",
            description="Dezelfde podcast.",
            language="nl-BE",
            author="Tester",
            owner_name="Owner",
            owner_email="owner@example.org",
            categories=["Technology"],
        )
    )
    toekomst = save_episode(
        dutch,
        EpisodeInput(title="De digitale toekomst", slug="toekomst", published_at=datetime(2021, 5, 3, 9, tzinfo=UTC)),
        AUDIO / "cbr.mp3",
    )
    token = csrf_token(client, "/admin/shows/test-show/settings")
    assert (
        client.post("/admin/shows/test-show/versions", data={"versions": "nl-show\n", "csrf_token": token}).status_code
        == 302
    )
    page_url = f"/admin/shows/test-show/episodes/{french.id}/"
    response = client.post(page_url + "versions", data={"versions": "nl-show/toekomst", "csrf_token": token})
    assert response.status_code == 302
    return dutch, toekomst


def alternates_of(client, path: str) -> tuple[dict, dict]:
    _, tree = page(client, path)
    links = dict(zip(tree.xpath("//link[@hreflang]/@hreflang"), tree.xpath("//link[@hreflang]/@href")))
    switch = dict(
        zip(tree.xpath("//nav[@class='languages']//a/@hreflang"), tree.xpath("//nav[@class='languages']//a/@href"))
    )
    return links, switch


def test_a_dutch_and_a_french_show_paired_link_to_each_other(client, paired):
    links, switch = alternates_of(client, "/shows/test-show/")
    assert links["nl"] == switch["nl"] == BASE + "/shows/nl-show/"
    assert links["fr"] == BASE + "/shows/test-show/" and links["de"] == BASE + "/shows/test-show/?lang=de"
    links, switch = alternates_of(client, "/shows/nl-show/")
    assert links["fr"] == switch["fr"] == BASE + "/shows/test-show/"
    assert links["nl"] == BASE + "/shows/nl-show/" and links["en"] == BASE + "/shows/nl-show/?lang=en"
    # The paired episodes, each to the other; an episode without a counterpart only to its own languages.
    links, switch = alternates_of(client, "/shows/test-show/avenir/")
    assert links["nl"] == switch["nl"] == BASE + "/shows/nl-show/toekomst/"
    links, _ = alternates_of(client, "/shows/nl-show/toekomst/")
    assert links["fr"] == BASE + "/shows/test-show/avenir/"


def test_pairing_needs_both_shows_and_other_languages(app, client, paired):
    dutch, _ = paired
    token = csrf_token(client, "/admin/shows/test-show/settings")
    # Two Dutch versions of one programme: refused, nothing changed.
    dutch.language = "nl"
    other = save_show(
        ShowInput(
            slug="also-dutch",
            title="Ook Nederlands",
            description="Nog een.",
            language="nl",
            author="x",
            owner_name="x",
            owner_email="x@example.org",
            categories=["Technology"],
        )
    )
    response = client.post(
        "/admin/shows/test-show/versions",
        data={"versions": "nl-show\nalso-dutch", "csrf_token": token},
        follow_redirects=True,
    )
    assert "each version must be in another language" in response.text
    assert db.session.get(Show, other.id).version_group is None
    # A show this producer does not edit cannot be pulled into their programme.
    client.post("/admin/logout", data={"csrf_token": token})
    accounts.create_user("editor@example.org", PASSWORD)
    accounts.set_member(db.session.get(Show, other.id), accounts.find_user("editor@example.org"), "owner")
    assert sign_in(client, "editor@example.org").status_code == 302
    token = csrf_token(client, "/admin/shows/also-dutch/settings")
    response = client.post(
        "/admin/shows/also-dutch/versions", data={"versions": "test-show", "csrf_token": token}, follow_redirects=True
    )
    assert "no show called" in response.text.lower() or "test-show" in response.text
    assert db.session.get(Show, other.id).version_group is None
    _, switch = alternates_of(client, "/shows/test-show/")
    assert switch["nl"] == BASE + "/shows/nl-show/"  # the pairing made by the shows' producer stands


def test_a_private_version_is_never_linked_from_public_pages(client, paired):
    dutch, _ = paired
    dutch.private = True
    db.session.commit()
    links, switch = alternates_of(client, "/shows/test-show/avenir/")
    assert "nl-show" not in links["nl"] and "nl-show" not in switch["nl"]
    assert links["nl"] == BASE + "/shows/test-show/avenir/?lang=nl"


def test_the_admin_speaks_the_producers_language_else_their_browsers(client, signed_in):
    assert "Vos podcasts" in client.get("/admin/", headers={"Accept-Language": "fr-BE,fr;q=0.9,en;q=0.5"}).text
    assert "Your shows" in client.get("/admin/", headers={"Accept-Language": "es"}).text
    token = csrf_token(client, "/admin/account")
    response = client.post("/admin/account/language", data={"language": "de", "csrf_token": token})
    assert response.status_code == 302
    page = client.get("/admin/account", headers={"Accept-Language": "fr"})
    assert "Sprache gespeichert." in page.text and "Ihre Podcasts" not in page.text and 'lang="de"' in page.text
    assert "Ihre Podcasts" in client.get("/admin/", headers={"Accept-Language": "fr"}).text
    assert "Set-Cookie" not in client.get("/shows/test-show/").headers  # the public site sets none
    for junk in ("xx", "<script>", "de-DE" * 10):
        response = client.post("/admin/account/language", data={"language": junk, "csrf_token": token})
        assert response.status_code == 422
    assert client.post("/admin/account/language", data={"language": "", "csrf_token": token}).status_code == 302
    assert "Vos podcasts" in client.get("/admin/", headers={"Accept-Language": "fr"}).text


def test_the_services_validation_messages_speak_the_producers_language(
    app, client, signed_in, admin_headers, make_episode
):
    """The same rule, broken in the admin, is explained in the producer's language; the API and the command
    line keep English."""
    episode = make_episode(title="Avenir")
    path = f"/admin/shows/test-show/episodes/{episode.id}/"
    token = csrf_token(client, path)
    said = {
        "en": "episode title is longer than 255 characters",
        "nl": "titel van de aflevering is langer dan 255 tekens",
        "fr": "titre de l'épisode : plus de 255 caractères",
        "de": "Titel der Folge ist länger als 255 Zeichen",
    }
    for language, message in said.items():
        response = client.post(
            path, data={"csrf_token": token, "title": "x" * 300}, headers={"Accept-Language": language}
        )
        assert response.status_code == 422
        assert html.fromstring(response.data).xpath("string(//*[@role='alert'])").strip() == message
    response = client.post(
        path, data={"csrf_token": token, "title": "Avenir", "season": "zero"}, headers={"Accept-Language": "de"}
    )
    assert response.status_code == 422 and "Staffel muss eine ganze Zahl sein" in response.text
    api = client.patch(
        f"/api/v1/shows/test-show/episodes/{episode.id}",
        json={"title": "x" * 300},
        headers={**admin_headers, "Accept-Language": "nl"},
    )
    assert api.status_code == 422 and api.get_json()["error"]["message"] == said["en"]
    result = app.test_cli_runner().invoke(
        args=["create-user", "not-an-address", "--password-stdin"], input="a long enough password\n"
    )
    assert result.exit_code != 0 and "'not-an-address' is not an e-mail address" in result.output


def test_the_downloads_dashboard_speaks_the_producers_language(client, signed_in, make_episode):
    make_episode(title="Avenir")
    page = html.fromstring(
        client.get("/admin/shows/test-show/analytics?days=7", headers={"Accept-Language": "fr"}).data
    )
    text = page.text_content()
    assert page.xpath("string(//h1)") == "Téléchargements"
    assert "Applis de podcast (le flux)" in text and "Premiers 7 jours" not in text and "7 premiers jours" in text
    assert page.xpath("//svg/title/text()")[0].startswith("Téléchargements par jour, du ")
    assert all(t.endswith(" : 0 téléchargement") for t in page.xpath("//rect[@class='bar']/title/text()"))
    assert "Downloads per day" not in text and "No download" not in text
