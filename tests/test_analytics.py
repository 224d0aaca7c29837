"""Downloads counted by the IAB rules: a synthetic access log replayed through the real media route.

Each case is named after the rule it exercises. Requests go through the app (the route records them, the
recorder writes them in a batch), then the day is rolled up and `daily_downloads` read back.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fixtures.analytics import APPLE, CHROME, DAY, OVERCAST, Hit, replay
from sqlalchemy import select

from podcast_service.analytics import counting, listeners
from podcast_service.analytics import recorder as recording
from podcast_service.core import urls
from podcast_service.core.extensions import db
from podcast_service.models import AnalyticsSalt, DailyDownloads, MediaRequest

POCKET = "Pocket Casts"
ANTENNA = "AntennaPod/3.2.0"
GPODDER = "gPodder/3.11.1 (+http://gpodder.org/) Linux"
CASTRO = "Castro 2022.11/1330 Like iTunes"
ADDICT = "PodcastAddict/v5 (+https://podcastaddict.com/; Android podcast app)"
SPOTIFY = "Spotify/8.6.80 iOS/16.6 (iPhone14,2)"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def counted(app, until_day: int = 3) -> dict[tuple[str, str, str], int]:
    """{(date, app, source): downloads} after rolling up every day before DAY + until_day."""
    counting.roll_up(today=(DAY + timedelta(days=until_day)).date())
    return {
        (row.day.isoformat(), row.app, row.source): row.downloads for row in db.session.scalars(select(DailyDownloads))
    }


def total(app) -> int:
    return sum(counted(app).values())


def test_head_requests_are_never_downloads(app, client, clock, enclosure):
    path, _size, _needed = enclosure
    replay(app, client, clock, path, [Hit(1, "198.51.100.1", APPLE, "HEAD"), Hit(2, "198.51.100.2", OVERCAST, "HEAD")])
    recording.recorder(app).flush()
    assert db.session.scalar(select(MediaRequest.id)) is None  # not even kept: a HEAD never adds to a download
    assert total(app) == 0


def test_a_bytes_0_1_probe_is_not_a_download(app, client, clock, enclosure):
    path, _size, _needed = enclosure
    replay(app, client, clock, path, [Hit(1, "198.51.100.1", APPLE, range="bytes=0-1")])
    assert total(app) == 0


def test_a_probe_then_the_first_minute_is_one_download(app, client, clock, enclosure):
    path, _size, needed = enclosure
    replay(
        app,
        client,
        clock,
        path,
        [
            Hit(1, "198.51.100.1", APPLE, range="bytes=0-1"),
            Hit(2, "198.51.100.1", APPLE, range=f"bytes=0-{needed - 1}"),
        ],
    )
    assert counted(app) == {("2026-11-20", "Apple Podcasts", "feed"): 1}


def test_split_ranges_count_when_together_they_cover_the_first_minute(app, client, clock, enclosure):
    path, size, needed = enclosure
    third = needed // 3
    replay(
        app,
        client,
        clock,
        path,
        [
            Hit(1, "198.51.100.1", OVERCAST, range=f"bytes={2 * third}-{needed + 10}"),  # out of order
            Hit(1.1, "198.51.100.1", OVERCAST, range=f"bytes=0-{third}"),
            Hit(1.2, "198.51.100.1", OVERCAST, range=f"bytes={third}-{2 * third}"),
            Hit(5, "198.51.100.1", OVERCAST, range=f"bytes={needed}-"),  # more afterwards: still one
        ],
    )
    assert counted(app) == {("2026-11-20", "Overcast", "feed"): 1}


def test_split_ranges_short_of_the_first_minute_do_not_count(app, client, clock, enclosure):
    path, size, needed = enclosure
    replay(
        app,
        client,
        clock,
        path,
        [
            Hit(1, "198.51.100.1", OVERCAST, range=f"bytes=0-{needed // 2}"),
            Hit(2, "198.51.100.1", OVERCAST, range=f"bytes={needed // 2 + 10}-{needed + 100}"),  # a gap of 9 bytes
            Hit(3, "198.51.100.2", POCKET, range=f"bytes={needed}-"),  # everything but the start
            Hit(4, "198.51.100.3", ANTENNA, range=f"bytes=-{size - 100}"),  # the last bytes, not the first 100
        ],
    )
    assert total(app) == 0


def test_a_listener_counts_once_a_day_however_often_they_ask(app, client, clock, enclosure):
    path, _size, _needed = enclosure
    replay(app, client, clock, path, [Hit(m, "198.51.100.1", APPLE) for m in (1, 60, 600, 1400)])
    assert counted(app) == {("2026-11-20", "Apple Podcasts", "feed"): 1}


def test_the_next_day_counts_again(app, client, clock, enclosure):
    path, _size, _needed = enclosure
    replay(app, client, clock, path, [Hit(60, "198.51.100.1", APPLE), Hit(60 + 24 * 60 + 1, "198.51.100.1", APPLE)])
    assert counted(app) == {("2026-11-20", "Apple Podcasts", "feed"): 1, ("2026-11-21", "Apple Podcasts", "feed"): 1}


def test_the_salt_rotates_at_midnight_and_the_old_one_is_deleted_when_its_day_is_counted(app, client, clock, enclosure):
    """UTC calendar days: 23:59 and 00:01 are two windows, under two salts, so two downloads."""
    path, _size, _needed = enclosure
    replay(app, client, clock, path, [Hit(24 * 60 - 1, "198.51.100.1", APPLE), Hit(24 * 60 + 1, "198.51.100.1", APPLE)])
    keys = db.session.execute(select(MediaRequest.day, MediaRequest.listener)).all()
    assert len({k for _d, k in keys}) == 2 and len(db.session.scalars(select(AnalyticsSalt.day)).all()) == 2
    counting.roll_up(today=(DAY + timedelta(days=1)).date())  # day one is over, day two is not
    assert db.session.scalars(select(AnalyticsSalt.day)).all() == [(DAY + timedelta(days=1)).date()]
    assert db.session.scalars(select(MediaRequest.day)).all() == [(DAY + timedelta(days=1)).date()]
    assert counted(app) == {("2026-11-20", "Apple Podcasts", "feed"): 1, ("2026-11-21", "Apple Podcasts", "feed"): 1}
    assert db.session.scalar(select(AnalyticsSalt.day)) is None and db.session.scalar(select(MediaRequest.id)) is None


def test_ipv6_addresses_in_one_64_are_one_listener_and_ipv4_is_kept_whole(app, client, clock, enclosure):
    path, _size, _needed = enclosure
    replay(
        app,
        client,
        clock,
        path,
        [
            Hit(1, "2001:db8:aaaa:1::1", APPLE),
            Hit(2, "2001:db8:aaaa:1:ffff:ffff:ffff:fffe", APPLE),  # same /64
            Hit(3, "2001:db8:aaaa:2::1", APPLE),  # another /64
            Hit(4, "198.51.100.1", APPLE),
            Hit(5, "198.51.100.2", APPLE),  # two IPv4 addresses
            Hit(6, "::ffff:198.51.100.1", APPLE),  # the first one, mapped into IPv6
        ],
    )
    assert counted(app) == {("2026-11-20", "Apple Podcasts", "feed"): 4}


def test_one_address_with_several_apps_is_several_listeners(app, client, clock, enclosure):
    path, _size, _needed = enclosure
    replay(app, client, clock, path, [Hit(1, "198.51.100.1", APPLE), Hit(2, "198.51.100.1", OVERCAST)])
    assert total(app) == 2


def test_known_bots_and_crawlers_are_filtered(app, client, clock, enclosure):
    path, _size, _needed = enclosure
    replay(
        app,
        client,
        clock,
        path,
        [
            Hit(1, "198.51.100.1", GOOGLEBOT),
            Hit(2, "198.51.100.2", "curl/8.5.0"),
            Hit(3, "198.51.100.3", ""),
            Hit(4, "198.51.100.4", "python-requests/2.31"),
            Hit(5, "198.51.100.5", "Mozilla/5.0 (compatible; bingbot/2.0)"),
        ],
    )
    assert db.session.scalar(select(MediaRequest.bot).where(MediaRequest.app == "Googlebot")) is True
    assert total(app) == 0


def test_requests_from_data_centre_ranges_are_filtered_when_a_list_is_configured(app_config, tmp_path, clock, demo):
    from podcast_service import create_app

    ranges = tmp_path / "datacenters.txt"
    ranges.write_text("# a cloud\n203.0.113.0/24\n2001:db8:cccc::/48\n")
    other = create_app({**app_config, "analytics_datacenter_ranges": str(ranges)})
    with other.app_context():
        path = urls.audio_url(db.session.get(type(demo), demo.id)).removeprefix(other.config["PODCAST"].base_url)
        replay(
            other,
            other.test_client(),
            clock,
            path,
            [Hit(1, "203.0.113.9", APPLE), Hit(2, "2001:db8:cccc:1::5", APPLE), Hit(3, "198.51.100.1", APPLE)],
        )
        assert total(other) == 1
        db.session.remove()


def test_countries_come_from_a_configured_geoip_database_and_only_the_code_is_kept(app_config, tmp_path, clock, demo):
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    from podcast_service import create_app
    from podcast_service.analytics import reports

    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-Country", ipv4_compatible=True)
    writer.insert_network(IPSet(["198.51.100.0/25"]), {"country": {"iso_code": "BE"}})
    writer.insert_network(IPSet(["198.51.100.128/25"]), {"country": {"iso_code": "FR"}})
    writer.insert_network(IPSet(["2001:db8:aaaa::/48"]), {"country": {"iso_code": "NL"}})
    writer.to_db_file(str(tmp_path / "countries.mmdb"))
    other = create_app({**app_config, "analytics_geoip_database": str(tmp_path / "countries.mmdb")})
    with other.app_context():
        episode = db.session.get(type(demo), demo.id)
        path = urls.audio_url(episode).removeprefix(other.config["PODCAST"].base_url)
        replay(
            other,
            other.test_client(),
            clock,
            path,
            [
                Hit(1, "198.51.100.1", APPLE),
                Hit(2, "198.51.100.2", APPLE),
                Hit(3, "198.51.100.200", APPLE),
                Hit(4, "2001:db8:aaaa:5::1", OVERCAST),
                Hit(5, "203.0.113.1", OVERCAST),
            ],
        )
        assert sorted(db.session.scalars(select(MediaRequest.country))) == ["", "BE", "BE", "FR", "NL"]
        counting.roll_up(today=(DAY + timedelta(days=1)).date())
        by_country = {}
        for row in db.session.scalars(select(DailyDownloads)):
            by_country[row.country] = by_country.get(row.country, 0) + row.downloads
        assert by_country == {"BE": 2, "FR": 1, "NL": 1, "": 1}
        figures = reports.show_figures(episode.show, days=30, today=(DAY + timedelta(days=1)).date())
        assert figures.countries == [("BE", 2), ("", 1), ("FR", 1), ("NL", 1)]
        db.session.remove()


def test_a_missing_geoip_or_datacenter_file_fails_the_start_not_each_request(app_config, tmp_path):
    from podcast_service import create_app
    from podcast_service.core.settings import SettingsError

    for name in ("analytics_geoip_database", "analytics_datacenter_ranges"):
        with pytest.raises(SettingsError, match="is not a file"):
            create_app({**app_config, name: str(tmp_path / "missing")})


def test_apps_and_the_sites_own_players_are_told_apart(app, client, clock, enclosure, demo):
    path, _size, _needed = enclosure
    base = app.config["PODCAST"].base_url
    page = f"{base}/shows/cyber-security-coalition/{demo.slug}/"
    hits = [
        Hit(n, f"198.51.100.{n}", agent)
        for n, agent in enumerate([APPLE, OVERCAST, POCKET, ANTENNA, GPODDER, CASTRO, ADDICT, SPOTIFY], start=1)
    ]
    hits += [
        Hit(20, "198.51.100.20", CHROME, range="bytes=0-", referrer=page),
        Hit(21, "198.51.100.21", CHROME, range="bytes=0-", referrer=page + "embed"),
        Hit(22, "198.51.100.22", CHROME, range="bytes=0-", referrer="https://open.spotify.com/episode/x"),
    ]
    replay(app, client, clock, path, hits)
    figures = counted(app)
    assert {a for (_d, a, s) in figures if s == "feed"} == {
        "Apple Podcasts",
        "Overcast",
        "Pocket Casts",
        "AntennaPod",
        "gPodder",
        "Castro",
        "Podcast Addict",
        "Spotify",
    }
    assert figures[("2026-11-20", "Chrome", "web")] == 1  # the episode page's player
    assert figures[("2026-11-20", "Chrome", "embed")] == 1  # the embed, wherever it is framed
    assert figures[("2026-11-20", "Spotify", "web")] == 1  # Spotify's web player, by its referrer
    assert db.session.scalar(select(MediaRequest.id)) is None


def test_previews_are_not_counted_and_renditions_are(app, client, clock, enclosure, demo):
    path, _size, _needed = enclosure
    replay(app, client, clock, f"{path}?preview={demo.preview_key}", [Hit(1, "198.51.100.1", APPLE)])
    assert db.session.scalar(select(MediaRequest.id)) is None


def test_nothing_the_service_writes_holds_an_address(app, client, clock, enclosure, tmp_path, caplog):
    """Every table, every log line, every file the instance wrote: the addresses are nowhere."""
    path, _size, _needed = enclosure
    addresses = ["203.0.113.77", "2001:db8:1234:5678::abcd", "198.51.100.99"]
    caplog.set_level("DEBUG")
    replay(app, client, clock, path, [Hit(n, a, APPLE) for n, a in enumerate(addresses, 1)])
    forms = set(addresses) | {"2001:db8:1234:5678", "2001:0db8:1234:5678"}
    dump = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            dump += [repr(tuple(row)) for row in connection.execute(table.select())]
    assert dump and not [line for line in dump if any(f in line for f in forms)]
    assert not any(f in caplog.text for f in forms)
    for file in Path(tmp_path).rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert not any(f.encode() in data for f in forms), file
    # And the key cannot be taken back to the address without the day's salt, which the rollup deletes.
    assert len(db.session.scalars(select(MediaRequest.listener)).all()) == 3
    counting.roll_up(today=(DAY + timedelta(days=1)).date())
    assert db.session.scalar(select(AnalyticsSalt.day)) is None


def test_a_failing_database_loses_the_rows_not_the_download(app, client, clock, enclosure, monkeypatch):
    path, size, _needed = enclosure
    monkeypatch.setattr(recording.Recorder, "flush", lambda self: 0)  # the writer is down
    r = client.get(path, headers={"User-Agent": APPLE})
    assert r.status_code in (200, 302)
    r.close()


def test_closing_the_recorder_writes_what_waits_and_ends_its_thread(app, client, clock, enclosure):
    """An app going away (a test's, a worker's) stops its writer before its database goes."""
    path, _size, _needed = enclosure
    held = recording.recorder(app)
    held.interval = 3600  # the thread would not write before the close
    client.get(path, headers={"User-Agent": APPLE, "Range": "bytes=0-1"}).close()
    assert held._thread is not None and held._thread.is_alive()
    held.close()
    assert not held._thread.is_alive()
    assert db.session.scalar(select(MediaRequest.range_end)) == 1


def test_listener_keys_hide_the_address_and_cut_ipv6(app):
    assert listeners.network("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert listeners.network("::ffff:192.0.2.1") == "192.0.2.1"
    assert listeners.network("not an address") == ""
    day = DAY.date()
    key = listeners.key("192.0.2.1", APPLE, day)
    # A digest (hex), not the address in any form; the same address gives the same key that day. (Digits such as
    # "192" do turn up in one key in a few hundred: the salt is random.)
    assert len(key) == 32 and set(key) <= set("0123456789abcdef")
    assert key == listeners.key("192.0.2.1", APPLE, day)
    assert key != listeners.key("192.0.2.2", APPLE, day)


def test_a_batch_naming_an_episode_deleted_meanwhile_keeps_its_other_rows(app, demo):
    """Rows are written a second after their request: the episode may be gone by then (or a log line from nginx
    may name one that never was). Those rows go; the others in the batch are written."""
    held = recording.recorder(app)
    for episode_id in (demo.id, 99999, demo.id):
        recording.add_request(
            held,
            address="198.51.100.1",
            user_agent=APPLE,
            span=(0, 1),
            referrer=None,
            at=DAY,
            episode_id=episode_id,
            media_id=demo.audio_id,
            file_size=100,
            threshold=10,
            private=False,
        )
    assert held.flush() == 2
    assert db.session.scalars(select(MediaRequest.episode_id)).all() == [demo.id, demo.id]


def test_no_listener_key_outlives_its_days_salt_even_in_memory(app):
    """Keys are kept for a listener's next requests (an app asks for many ranges), never past their day."""
    day = DAY.date()
    listeners.key.cache_clear()  # keys other tests derived in this process
    listeners.key("192.0.2.1", APPLE, day)
    listeners.key("192.0.2.2", APPLE, day)
    assert listeners.key.cache_info().currsize == 2
    # A web process, which never rolls up, drops the day's keys with the first request of the next day.
    listeners.key("192.0.2.1", APPLE, day + timedelta(days=1))
    assert listeners.key.cache_info().currsize == 1
    # The worker that counts a day forgets every key it held.
    counting.roll_up(today=day + timedelta(days=2))
    assert listeners.key.cache_info().currsize == 0


def test_the_development_servers_request_log_names_no_address(app, caplog):
    """`flask run` / `make demo` log each request after the client's address; the app drops it."""
    import logging

    caplog.set_level("INFO", logger="werkzeug")
    logging.getLogger("werkzeug").info(
        '203.0.113.5 - - [27/Nov/2026 10:00:00] "%s" %s %s\n', "GET / HTTP/1.1", 200, "-"
    )
    assert "203.0.113.5" not in caplog.text and '- - - [27/Nov/2026 10:00:00] "GET / HTTP/1.1" 200' in caplog.text


def test_a_copy_of_the_database_cannot_be_searched_back_to_an_address(app, client, clock, enclosure):
    """With the day's rows and salt from the database, an attacker tries every address of a /24: none matches."""
    import hashlib
    import hmac
    import ipaddress

    path, _size, _needed = enclosure
    replay(app, client, clock, path, [Hit(60, "198.51.100.77", APPLE)])
    [listener] = db.session.scalars(select(MediaRequest.listener)).all()
    stored = db.session.scalar(select(AnalyticsSalt.salt))

    def key_under(salt: bytes, address: str) -> str:
        return hmac.new(salt, f"{listeners.network(address)}\n{APPLE}".encode(), hashlib.sha256).hexdigest()[:32]

    candidates = [str(a) for a in ipaddress.ip_network("198.51.100.0/24")]
    assert [a for a in candidates if key_under(stored, a) == listener] == []
    # The service's secret key, which lives in its configuration, is what the search lacked.
    keyed = hmac.new(app.config["SECRET_KEY"].encode(), b"listener keys\n" + stored, hashlib.sha256).digest()
    assert [a for a in candidates if key_under(keyed, a) == listener] == ["198.51.100.77"]
