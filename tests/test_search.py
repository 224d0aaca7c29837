"""Searching a show's episodes: what is found, what never is, pages of results, and hostile queries.

Run on both stacks, so SQLite's FTS5 and PostgreSQL's full-text search are held to the same answers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from fixtures.app import AUDIO
from fixtures.catalogue import add_episodes
from lxml import html

from podcast_service.catalogue import search
from podcast_service.catalogue.inputs import EpisodeInput, ShowInput
from podcast_service.catalogue.service import delete_episode, episode_input, save_episode, save_show
from podcast_service.core.extensions import db
from podcast_service.models import utcnow

SEARCH = "/shows/test-show/search"


def titles(client, query: str, page: int | None = None) -> list[str]:
    r = client.get(SEARCH, query_string={"q": query, **({"page": page} if page else {})})
    assert r.status_code == 200, r.text
    return [t.strip() for t in html.fromstring(r.data).xpath("//article/h3/a/text()")]


def test_titles_summaries_and_notes_are_found_whatever_the_accents_and_case(client, make_episode):
    make_episode(title="Shaping Belgium's digital future", summary="The Prime Minister on the strategy")
    make_episode(title="Réseaux et résilience", summary="Les réseaux belges")
    make_episode(title="Ransomware", notes="With **Alexander De Croo**: the [report](https://example.org)")
    assert titles(client, "digital") == ["Shaping Belgium's digital future"]
    assert titles(client, "PRIME minister") == ["Shaping Belgium's digital future"]
    assert titles(client, "reseaux") == titles(client, "RÉSEAUX") == ["Réseaux et résilience"]
    assert titles(client, "croo") == ["Ransomware"]  # in the show notes only
    assert titles(client, "digi") == ["Shaping Belgium's digital future"]  # the last word is a prefix
    assert titles(client, "prime resilience") == []  # every word must appear
    assert titles(client, "nothing-like-this") == []


def test_a_match_in_the_title_ranks_above_one_in_the_notes(client, make_episode):
    make_episode(title="A talk about budgets", notes="Phishing came up once.", published_at=utcnow())
    make_episode(title="Phishing, explained", published_at=utcnow() - timedelta(days=30))
    assert titles(client, "phishing") == ["Phishing, explained", "A talk about budgets"]


def test_drafts_scheduled_withdrawn_unready_private_and_other_shows_are_never_found(client, app, show, make_episode):
    make_episode(title="Secret public one")
    make_episode(title="Secret draft", published_at=None)
    make_episode(title="Secret scheduled", published_at=utcnow() + timedelta(days=1))
    withdrawn = make_episode(title="Secret withdrawn")
    save_episode(show, replace(episode_input(withdrawn), withdrawn=True), existing=withdrawn)
    unready = make_episode(title="Secret unready")
    unready.audio_ready = False
    private = save_show(
        ShowInput(
            slug="members",
            title="Members",
            description="d",
            author="a",
            owner_name="o",
            owner_email="o@example.org",
            categories=["Technology"],
            private=True,
        )
    )
    save_episode(private, EpisodeInput(title="Secret members", published_at=utcnow()), AUDIO / "cbr.mp3")
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
    save_episode(other, EpisodeInput(title="Secret other show", published_at=utcnow()), AUDIO / "cbr.mp3")
    db.session.commit()
    assert titles(client, "secret") == ["Secret public one"]
    assert client.get("/shows/members/search?q=secret").status_code == 404
    assert [
        t.strip()
        for t in html.fromstring(client.get("/shows/other/search?q=secret").data).xpath("//article/h3/a/text()")
    ] == ["Secret other show"]


def test_the_index_follows_edits_and_deletions(client, show, make_episode):
    episode = make_episode(title="Old name")
    save_episode(show, replace(episode_input(episode), title="New name", summary="Quantum"), existing=episode)
    assert titles(client, "old") == [] and titles(client, "new") == titles(client, "quantum") == ["New name"]
    delete_episode(episode)
    assert titles(client, "new") == []


def test_results_come_in_pages_with_stable_addresses(client, show):
    add_episodes(show, 45, 0)  # "Bulk 0".."Bulk 44", published a minute apart, newest first; indexed
    first, second, third = titles(client, "bulk"), titles(client, "bulk", 2), titles(client, "bulk", 3)
    assert (len(first), len(second), len(third)) == (20, 20, 5)
    assert set(first) | set(second) | set(third) == {f"Bulk {n}" for n in range(45)}
    assert first[0] == "Bulk 0"  # equal matches: newest first
    doc = html.fromstring(client.get(SEARCH, query_string={"q": "bulk", "page": 2}).data)
    assert doc.xpath("//a[@rel='prev']/@href") == ["/shows/test-show/search?q=bulk"]
    assert doc.xpath("//a[@rel='next']/@href") == ["/shows/test-show/search?page=3&q=bulk"]
    assert client.get(SEARCH, query_string={"q": "bulk", "page": 4}).status_code == 404
    assert client.get(SEARCH, query_string={"q": "bulk", "page": "x"}).status_code == 404


def test_the_show_page_offers_search_and_results_are_not_indexed(client, make_episode):
    make_episode(title="Findable")
    form = html.fromstring(client.get("/shows/test-show/").data).xpath("//form[@role='search']")[0]
    assert form.get("action") == SEARCH and form.xpath(".//label[@for='q']") and form.xpath(".//input[@id='q']")
    r = client.get(SEARCH, query_string={"q": "findable"})
    assert r.headers["X-Robots-Tag"] == "noindex, follow"
    assert b'name="robots" content="noindex, follow"' in r.data


HOSTILE = [
    '"',
    '""',
    "'",
    "\\",
    "*",
    "a*",
    ":*",
    "NEAR(a b)",
    "title:x",
    "a AND OR NOT b",
    "(((",
    "a & | ! b",
    "'; DROP TABLE episodes; --",
    "%",
    "_",
    "\x00",
    "🎙️",
    "a" * 200,
    " ".join(["word"] * 39),
    "^x",
    "-x",
    "+x",
]


def test_hostile_queries_get_an_answer_never_an_error(client, make_episode):
    """FTS5 and tsquery syntax, SQL, NUL, emoji, the longest query allowed: each is words or nothing."""
    make_episode(title="A word about words")
    for query in HOSTILE:
        r = client.get(SEARCH, query_string={"q": query})
        assert r.status_code == 200 and b"Traceback" not in r.data, query
    assert titles(client, "word") == ["A word about words"]  # nothing was dropped


def test_empty_punctuation_and_overlong_queries(client, make_episode):
    make_episode(title="Something")
    assert client.get(SEARCH).status_code == 200
    assert b"punctuation alone finds nothing" in client.get(SEARCH, query_string={"q": "?!…"}).data
    r = client.get(SEARCH, query_string={"q": "x" * 201})
    assert r.status_code == 400 and b"at most 200 characters" in r.data


def test_reindex_rebuilds_what_bulk_writes_bypassed(app, client, make_episode):
    make_episode(title="Rebuilt later")
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM {search.TABLE}")
    assert titles(client, "rebuilt") == []
    with db.engine.begin() as connection:
        assert search.reindex(connection) == 1
    assert titles(client, "rebuilt") == ["Rebuilt later"]


def test_a_word_in_more_episodes_than_are_ranked_ranks_the_most_recently_added_ones(client, make_episode, monkeypatch):
    """Ranking stops at MAX_RANKED matches, the newest added: the cost of a common word stays bounded."""
    monkeypatch.setattr(search, "MAX_RANKED", 3)
    make_episode(title="Common ground", published_at=utcnow() - timedelta(days=9))  # best match, added first
    for n in range(4):
        make_episode(title=f"Episode {n}", notes="A common word.", published_at=utcnow() - timedelta(days=5 - n))
    make_episode(title="Common draft", published_at=None)  # counted among the newest, never shown
    assert titles(client, "common") == ["Episode 3", "Episode 2"]
    assert titles(client, "ground") == ["Common ground"]  # a rarer word still finds it
