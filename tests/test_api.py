"""The JSON API: tokens, shows, episode upload filled from the file's tags, states, and the OpenAPI contract."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fixtures.api import DEMO_MP3, SHOW_FIELDS, upload
from fixtures.app import AUDIO, MANIFEST, ROOT, multipart
from fixtures.openapi_check import API_PREFIX, openapi_path
from openapi_spec_validator import validate

from podcast_service.accounts import service as accounts
from podcast_service.core.extensions import db
from podcast_service.models import ApiToken, Episode, MediaFile, utcnow


def test_openapi_document_is_valid_and_covers_every_route(app, document):
    validate(document)
    routes = {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API_PREFIX) and rule.endpoint != "api.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert routes == documented


def test_upload_fills_what_is_left_out_from_the_files_tags(api, api_show):
    r = upload(api, api_show)
    assert r.status_code == 201
    episode = r.get_json()
    assert episode["title"] == "Shaping Belgium's digital future"
    assert episode["summary"] == "An interview with our Prime Minister about Belgium's cyber security strategy."
    assert episode["status"] == "draft"
    assert [c["title"] for c in episode["chapters"]][:1] and len(episode["chapters"]) == 3
    assert episode["mime_type"] == "audio/mpeg" and episode["size"] == DEMO_MP3.stat().st_size
    assert episode["duration"] == pytest.approx(130, abs=15)
    assert episode["image_url"] is not None  # the cover embedded in the ID3 tag
    assert episode["audio_url"].endswith(".mp3") and episode["guid"]


def test_answers_are_compact_json_with_sorted_keys_and_text_as_written(api, api_show, client, admin_headers):
    """The same bytes whichever encoder writes them: a cache or a client comparing answers sees no change."""

    def canonical(response) -> bytes:
        return (
            json.dumps(response.get_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
        ).encode()

    title = 'Façade \u2028 — l\'« État » 🎙 "quoted" </script>'
    assert upload(api, api_show, title=title).status_code == 201
    r = api("GET", f"/shows/{api_show}/episodes")
    assert r.mimetype == "application/json" and r.data.endswith(b"}]\n")
    assert [e["title"] for e in r.get_json()] == [title] and r.data == canonical(r)
    error = client.get(f"{API_PREFIX}/shows/{api_show}/episodes?per_page=0", headers=admin_headers)
    assert error.status_code == 422 and error.data == canonical(error)


def test_given_fields_win_over_tags_and_publish_makes_it_public(api, api_show, client):
    r = upload(
        api,
        api_show,
        title="Our own title",
        description="Our summary",
        status="published",
        people=json.dumps([{"name": "Alexander De Croo", "role": "guest"}]),
        links="2021 activity report | https://annualreport.cybersecuritycoalition.be/en | report",
    )
    episode = r.get_json()
    assert r.status_code == 201
    assert (episode["title"], episode["summary"], episode["status"]) == ("Our own title", "Our summary", "published")
    assert episode["people"][0]["name"] == "Alexander De Croo"
    assert episode["links"][0]["rel"] == "report"
    assert client.get(episode["page_url"].removeprefix("https://podcasts.example.org")).status_code == 200
    assert episode["guid"].encode() in client.get(f"/shows/{api_show}/feed.xml").data


def test_scheduled_episode_needs_a_future_date(api, api_show):
    r = upload(api, api_show, status="scheduled")
    assert r.status_code == 422 and "future" in r.get_json()["error"]["message"]
    at = (utcnow() + timedelta(days=1)).isoformat()
    r = upload(api, api_show, status="scheduled", publish_at=at)
    assert r.status_code == 201 and r.get_json()["status"] == "scheduled"


def test_update_unpublish_and_republish_keep_guid_and_date(api, api_show, client):
    episode = upload(api, api_show, status="published").get_json()
    path = f"/shows/{api_show}/episodes/{episode['id']}"
    r = api("PATCH", path, json={"status": "unpublished", "season": 2, "number": 5})
    assert r.status_code == 200
    changed = r.get_json()
    assert (changed["status"], changed["season"], changed["number"]) == ("unpublished", 2, 5)
    assert client.get(f"/shows/{api_show}/feed.xml").data.count(episode["guid"].encode()) == 0
    assert client.get(episode["audio_url"].removeprefix("https://podcasts.example.org")).status_code == 404
    again = api("PATCH", path, json={"status": "published"}).get_json()
    assert again["published_at"] == episode["published_at"] and again["guid"] == episode["guid"]


def test_replacing_the_audio_keeps_the_guid(api, api_show, storage):
    episode = upload(api, api_show, status="published").get_json()
    path = f"/shows/{api_show}/episodes/{episode['id']}"
    r = api("PATCH", path, **multipart(audio=((AUDIO / "aac.m4a").read_bytes(), "new.m4a")))
    replaced = r.get_json()
    assert r.status_code == 200
    assert replaced["guid"] == episode["guid"] and replaced["mime_type"] == "audio/x-m4a"
    assert replaced["duration"] == pytest.approx(MANIFEST["aac.m4a"]["duration"], abs=0.05)
    assert replaced["title"] == episode["title"]
    assert len([k for k in storage.keys() if k.startswith("audio/")]) == 1  # the old object is gone


def test_transcript_and_chapters(api, api_show):
    episode = upload(api, api_show).get_json()
    path = f"/shows/{api_show}/episodes/{episode['id']}"
    vtt = (ROOT / "episodes" / "2021-shaping-belgiums-digital-future" / "transcript.vtt").read_bytes()
    r = api("PUT", path + "/transcript", **multipart(transcript=(vtt, "t.vtt")))
    assert r.status_code == 200 and r.get_json()["transcript_url"].endswith(".vtt")
    r = api(
        "PUT",
        path + "/chapters",
        json={
            "version": "1.2.0",
            "chapters": [
                {"startTime": 0, "title": "Start"},
                {"startTime": 61.5, "title": "Later", "url": "https://example.org/"},
            ],
        },
    )
    assert [(c["start"], c["title"]) for c in r.get_json()["chapters"]] == [(0, "Start"), (61.5, "Later")]
    r = api("PUT", path + "/chapters", json=[{"start": 9999, "title": "After the end"}])
    assert r.status_code == 422 and "outside the audio" in r.get_json()["error"]["message"]
    assert api("DELETE", path + "/transcript").get_json()["transcript_url"] is None


def test_delete_removes_rows_and_objects(api, api_show, storage):
    episode = upload(api, api_show).get_json()
    assert api("DELETE", f"/shows/{api_show}/episodes/{episode['id']}").status_code == 204
    assert db.session.query(Episode).count() == 0
    assert db.session.query(MediaFile).count() == 0
    assert list(storage.keys()) == []
    assert api("GET", f"/shows/{api_show}/episodes/{episode['id']}").status_code == 404


def test_show_create_update_and_list(api, api_show, make_token, client, document, app):
    r = api("PATCH", f"/shows/{api_show}", json={"title": "New title", "explicit": True})
    assert r.get_json()["title"] == "New title" and r.get_json()["explicit"] is True
    assert api("POST", "/shows", json=SHOW_FIELDS).status_code == 409
    r = api("POST", "/shows", json={**SHOW_FIELDS, "slug": "other", "categories": ["Cooking"]})
    assert r.status_code == 422 and "Apple" in r.get_json()["error"]["message"]
    assert api("PATCH", f"/shows/{api_show}", json={"slug": "renamed"}).status_code == 422
    # A producer who is not a member sees no show and cannot touch this one.
    stranger = make_token()
    assert api("GET", "/shows", headers=stranger).get_json() == []
    assert api("GET", f"/shows/{api_show}", headers=stranger).status_code == 404


def test_tokens_need_the_right_scope_and_can_be_revoked(api, api_show, make_token, admin_user):
    reader = make_token(admin_user, scopes=("read",))
    assert api("GET", "/shows", headers=reader).status_code == 200
    r = upload(lambda *a, **k: api(*a, headers=reader, **k), api_show)
    assert r.status_code == 403 and "write" in r.get_json()["error"]["message"]
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    assert db.session.query(Episode).count() == 0
    accounts.revoke_token(db.session.query(ApiToken).order_by(ApiToken.id.desc()).first())  # the reader
    assert api("GET", "/shows", headers=reader).status_code == 401
    assert api("GET", "/shows", headers={"Authorization": "Bearer pst_madeup"}).status_code == 401
    assert api("GET", "/shows", headers={}).status_code == 401


def test_cli_create_token_prints_a_working_token(runner, admin_user, client):
    result = runner.invoke(args=["create-token", "admin@example.org", "--scope", "read"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("pst_")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API_PREFIX}/shows", headers=headers).status_code == 200
    assert client.post(f"{API_PREFIX}/shows", headers=headers, json=SHOW_FIELDS).status_code == 403
    stored = db.session.query(ApiToken).one()
    assert secret not in (stored.token_hash, stored.prefix) and stored.token_hash != secret
    listed = runner.invoke(args=["list-tokens", "admin@example.org"]).output
    assert stored.prefix in listed and "read" in listed
    assert runner.invoke(args=["revoke-token", "admin@example.org", stored.prefix]).exit_code == 0
    assert client.get(f"{API_PREFIX}/shows", headers=headers).status_code == 401


def test_language_versions_are_named_and_read_through_the_api(api, api_show, make_token):
    """A French show and its Dutch version paired by slug, their episodes by show-slug/episode-slug; what is
    not the producer's, in the same language or malformed is refused with nothing changed."""
    api("PATCH", f"/shows/{api_show}", json={"language": "fr-BE"})
    assert api("POST", "/shows", json={**SHOW_FIELDS, "slug": "coalition-nl", "language": "nl-BE"}).status_code == 201
    french = upload(api, api_show, title="Avenir").get_json()
    dutch = upload(api, "coalition-nl", title="Toekomst").get_json()
    response = api("PUT", f"/shows/{api_show}/versions", json={"shows": ["coalition-nl"]})
    assert response.status_code == 200 and [s["slug"] for s in response.get_json()["shows"]] == ["coalition-nl"]
    assert [s["language"] for s in api("GET", "/shows/coalition-nl/versions").get_json()["shows"]] == ["fr-BE"]
    response = api(
        "PUT", f"/shows/{api_show}/episodes/{french['id']}/versions", json={"episodes": ["coalition-nl/toekomst"]}
    )
    assert response.status_code == 200 and response.get_json()["episodes"][0]["id"] == dutch["id"]
    assert api("GET", f"/shows/coalition-nl/episodes/{dutch['id']}/versions").get_json()["episodes"][0]["name"] == (
        f"{api_show}/avenir"
    )

    assert api("PUT", f"/shows/{api_show}/versions", json={"shows": "coalition-nl"}).status_code == 422
    assert api("PUT", f"/shows/{api_show}/versions", json=["coalition-nl"]).status_code == 422
    api("POST", "/shows", json={**SHOW_FIELDS, "slug": "coalition-fr", "language": "fr"})
    response = api("PUT", f"/shows/{api_show}/versions", json={"shows": ["coalition-nl", "coalition-fr"]})
    assert response.status_code == 422 and "another language" in response.get_json()["error"]["message"]
    assert (
        api(
            "PUT", f"/shows/{api_show}/episodes/{french['id']}/versions", json={"episodes": ["coalition-fr/nothing"]}
        ).status_code
        == 422
    )
    stranger = make_token(accounts.create_user("stranger@example.org", "a long enough password"))
    assert api("GET", f"/shows/{api_show}/versions", headers=stranger).status_code == 404
    assert api("PUT", "/shows/coalition-nl/versions", headers=stranger, json={"shows": []}).status_code == 404
    # Nothing above changed the pairing.
    assert [s["slug"] for s in api("GET", f"/shows/{api_show}/versions").get_json()["shows"]] == ["coalition-nl"]
    assert api("PUT", f"/shows/{api_show}/versions", json={"shows": []}).get_json() == {"shows": []}
    assert api("GET", "/shows/coalition-nl/versions").get_json() == {"shows": []}
