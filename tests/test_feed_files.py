"""Public feeds behind the production setup: nginx (deploy/nginx.conf) sends them alone from the files the
service leaves for ten seconds (podcast_service/delivery/feed_files.py), with the service's bytes and headers,
and never a version that a change, a schedule or a withdrawal has overtaken."""

from __future__ import annotations

import errno
import gzip
import logging
import os
import shutil
import time
from datetime import timedelta
from pathlib import Path

import flask_migrate
import pytest
from fixtures.app import AUDIO, DEMO_EPISODES, dispose_app, wait_for
from fixtures.production import accel_demo, answer, answered_alone, service_lines
from fixtures.services import Gunicorn, Nginx, app_environment
from lxml import etree
from sqlalchemy import select

from podcast_service import create_app
from podcast_service.catalogue.inputs import EpisodeInput
from podcast_service.catalogue.service import save_episode
from podcast_service.core.extensions import db
from podcast_service.delivery import feed_files, media_links
from podcast_service.models import CachedFeed, Chapter, Episode, Show, utcnow

pytestmark = pytest.mark.servers

SLUG = "cyber-security-coalition"
FEED = f"/shows/{SLUG}/feed.xml"
# What the service says of a feed besides its bytes: nginx sending it alone must say the same.
HEADERS = (
    "Content-Type",
    "Content-Encoding",
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Vary",
    "X-Content-Type-Options",
)


def titles(data: bytes) -> list[str]:
    return etree.fromstring(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).xpath("//item/title/text()")


def left(links: Path) -> list[str]:
    """The feed files left for nginx: this version's and every window's links, relative to `links`."""
    return sorted(str(p.relative_to(links)) for p in links.glob("**/*.xml*") if "feeds" in p.parts)


def in_windows(links: Path) -> list[str]:
    """The feed files nginx may send this window (the last version kept for outages aside)."""
    return [path for path in left(links) if path.split("/")[0].isdigit()]


def sent_alone(port: int, links: Path, method: str = "GET", path: str = FEED, **headers: str):
    """A poll nginx answers alone from the files the service left: (status, headers, body)."""
    return answered_alone(
        port, path, lambda window: (links / window / "feeds" / f"{SLUG}.xml").is_symlink(), method, **headers
    )[:3]


def nginx_etag(row: CachedFeed) -> str:
    """The ETag nginx gives the plain feed's file: its mtime (the version's date) and size, in hex."""
    return f'"{int(row.last_modified.timestamp()):x}-{row.size:x}"'


@pytest.fixture
def behind_nginx(tmp_path):
    """The demo show behind nginx and gunicorn, the media folder (where the feed files go) shared."""
    config, app, *_ = accel_demo(tmp_path)
    server = Gunicorn(app_environment(config), tmp_path)
    server.start()
    proxy = Nginx(f"127.0.0.1:{server.port}", tmp_path / "nginx", media=Path(config["storage_path"]))
    proxy.start()
    yield config, app, server, proxy, Path(config["storage_path"]) / ".published"
    proxy.stop()
    server.stop()


def edit(app, change) -> None:
    """Commit `change(session)` as a producer's edit would, in another process than gunicorn's."""
    with app.app_context():
        change(db.session)
        db.session.commit()
        db.session.remove()


def test_nginx_sends_the_feed_alone_with_the_services_bytes_and_headers(behind_nginx):
    config, app, server, proxy, links = behind_nginx
    python_served = create_app({**config, "accel_redirect": ""})
    with python_served.app_context():
        client = python_served.test_client()
        direct = {
            encoding: client.get(FEED, headers={"Accept-Encoding": encoding}) for encoding in ("identity", "gzip")
        }
        db.session.remove()
        dispose_app(python_served)
    first_window = int(media_links.window(time.time()))
    for encoding, expected in direct.items():
        status, alone, body = sent_alone(proxy.port, links, **{"Accept-Encoding": encoding})
        assert status == 200 and body == expected.data
        for name in HEADERS:
            assert alone.get(name) == expected.headers.get(name), name
    assert direct["gzip"].headers["Content-Encoding"] == "gzip"
    assert direct["gzip"].headers["ETag"] != direct["identity"].headers["ETag"]
    plain_etag, zipped_etag = direct["identity"].headers["ETag"], direct["gzip"].headers["ETag"]
    modified = direct["identity"].headers["Last-Modified"]
    # An app's validators, whichever of the two gave them, get a 304; a later date as well (as the service).
    for headers in (
        {"If-None-Match": plain_etag},
        {"If-None-Match": zipped_etag, "Accept-Encoding": "gzip"},
        {"If-Modified-Since": modified},
        {"If-Modified-Since": "Tue, 01 Jan 2036 00:00:00 GMT"},
    ):
        assert sent_alone(proxy.port, links, **headers)[0] == 304, headers
    status, alone, body = sent_alone(proxy.port, links, "HEAD", **{"Accept-Encoding": "gzip"})
    assert (status, body, alone["ETag"]) == (200, b"", zipped_etag)
    status, alone, body = sent_alone(proxy.port, links, **{"Accept-Encoding": "gzip;q=0, identity"})
    assert body == direct["identity"].data and "Content-Encoding" not in alone
    assert sent_alone(proxy.port, links, path=FEED + "?refresh=1")[2] == direct["identity"].data
    # Twenty polls more: the service saw one per ten seconds (nginx's first of the window) and the POST.
    for _ in range(20):
        assert answer(proxy.port, FEED)[0] == 200
    assert answer(proxy.port, FEED, "POST")[0] == 405  # the service's answer, which says what it allows
    windows = int(media_links.window(time.time())) - first_window + 1
    wait_for(lambda: service_lines(server, "/feed.xml") >= 2, what="the service's polls in its log")
    assert service_lines(server, "/feed.xml") <= windows + 1
    # One copy of the version's bytes, readable by nginx's group as media files are, dated as the service dates
    # it; each window's files are links to it.
    for encoding, name in (("identity", f"{SLUG}.xml"), ("gzip", f"{SLUG}.xml.gz")):
        stored = links / "feeds" / name
        assert stored.read_bytes() == direct[encoding].data
        assert oct(stored.stat().st_mode & 0o777) == "0o640"
        assert int(stored.stat().st_mtime) == int(direct[encoding].last_modified.timestamp())
        window_links = list(links.glob(f"*/feeds/{name}"))
        assert window_links and all(p.resolve() == stored.resolve() for p in window_links)


def test_a_change_committed_anywhere_in_the_service_is_in_the_next_poll(behind_nginx):
    """Any commit that makes the feed stale drops the files, from any process, also a change to a part of an
    episode (a chapter) that no media link depends on."""
    _, app, _, proxy, links = behind_nginx
    assert sent_alone(proxy.port, links)[0] == 200

    def retitle(session) -> None:
        session.scalar(select(Episode)).title = "Retitled"

    edit(app, retitle)
    assert in_windows(links) == []  # dropped by the commit itself
    # Within the second nginx trusts what it found open.
    wait_for(lambda: titles(answer(proxy.port, FEED)[2]) == ["Retitled"], what="the new title")
    assert titles(sent_alone(proxy.port, links, **{"Accept-Encoding": "gzip"})[2]) == ["Retitled"]

    def add_chapter(session) -> None:
        session.add(Chapter(episode_id=session.scalar(select(Episode.id)), start=1.0, title="A new chapter"))

    assert sent_alone(proxy.port, links)[0] == 200 and in_windows(links)
    edit(app, add_chapter)  # the feed links to chapters.json: whether its bytes change, the service decides
    assert in_windows(links) == []


def test_a_scheduled_episode_is_in_the_first_poll_after_it_goes_live(behind_nginx):
    _, app, _, proxy, links = behind_nginx
    live_at = utcnow() + timedelta(seconds=media_links.WINDOW_SECONDS + 2)
    with app.app_context():
        save_episode(
            db.session.scalar(select(Show)), EpisodeInput(title="Scheduled", published_at=live_at), AUDIO / "cbr.mp3"
        )
        db.session.remove()
    # Polled until just before the moment, without it (nginx alone in the windows that end before it)...
    while utcnow() < live_at - timedelta(seconds=0.5):
        status, _, body = answer(proxy.port, FEED)
        assert status == 200 and "Scheduled" not in titles(body)
        time.sleep(0.2)
    while utcnow() < live_at:
        time.sleep(0.05)
    # ... and no file nginx may send outlives it.
    assert "Scheduled" in titles(answer(proxy.port, FEED)[2])


def test_a_private_moved_or_unknown_feed_leaves_no_file(behind_nginx):
    _, app, _, proxy, links = behind_nginx
    assert sent_alone(proxy.port, links)[0] == 200

    def private(session) -> None:
        session.scalar(select(Show)).private = True

    edit(app, private)
    assert left(links) == []  # dropped by the commit itself
    wait_for(lambda: answer(proxy.port, FEED)[0] == 404, what="a 404")
    assert [answer(proxy.port, FEED, method)[0] for method in ("GET", "HEAD")] == [404, 404]
    assert left(links) == []

    def moved(session) -> None:
        show = session.scalar(select(Show))
        show.private, show.new_feed_url = False, "https://elsewhere.example.org/feed.xml"

    edit(app, moved)
    for _ in range(3):
        status, headers, _ = answer(proxy.port, FEED)
        assert (status, headers["Location"]) == (301, "https://elsewhere.example.org/feed.xml")
    assert left(links) == []
    # Unknown shows, and names that are no show's (a path, encoded slashes): refused by nginx (400, a path above
    # the root) or by the service, and nothing is left.
    for path in (
        "/shows/no-such-show/feed.xml",
        "/shows/..%2F..%2Ffeeds%2Fx/feed.xml",
        "/shows/a.b/feed.xml",
        "/shows/x%2F..%2F..%2Ffeeds%2Fy/feed.xml",
        "/shows/%00/feed.xml",
    ):
        assert answer(proxy.port, path)[0] in (400, 404), path
    assert left(links) == []


def test_a_media_request_named_after_a_show_drops_none_of_its_feed_files(behind_nginx):
    """A 404 for a file drops that file's links: a made-up file named like the show must not drop the feed's."""
    _, _, _, proxy, links = behind_nginx
    assert sent_alone(proxy.port, links)[0] == 200
    before = left(links)
    assert answer(proxy.port, f"/media/{SLUG}/episode.xml")[0] == 404
    assert answer(proxy.port, f"/media/{SLUG}/episode.mp3")[0] == 404
    assert left(links) == before and len(before) >= 4


def test_the_feed_goes_on_while_the_service_is_down_until_the_show_stops_being_public(behind_nginx):
    _, app, server, proxy, links = behind_nginx
    status, headers, body = sent_alone(proxy.port, links, **{"Accept-Encoding": "gzip"})
    server.stop()
    # This window's file, then the last version the service left once the window has turned.
    assert answer(proxy.port, FEED, **{"Accept-Encoding": "gzip"})[2] == body
    for window in [d for d in links.iterdir() if d.name.isdigit()]:  # as the ten seconds turning would
        shutil.rmtree(window)
    status, kept, kept_body = answer(proxy.port, FEED, **{"Accept-Encoding": "gzip"})
    assert (status, kept_body, kept["ETag"]) == (200, body, headers["ETag"])
    assert answer(proxy.port, FEED, **{"If-None-Match": headers["ETag"], "Accept-Encoding": "gzip"})[0] == 304
    server.start()

    # A change to the feed: nginx asks the service again at once; the last version stays for the next outage,
    # until the service leaves a newer one.
    def withdraw(session) -> None:
        session.scalar(select(Episode)).withdrawn_at = utcnow()

    edit(app, withdraw)
    assert left(links) == [f"feeds/{SLUG}.xml", f"feeds/{SLUG}.xml.gz"]
    server.stop()
    assert answer(proxy.port, FEED, **{"Accept-Encoding": "gzip"})[::2] == (200, body)
    server.start()

    # The show made private: nothing of its feed stays where nginx looks.
    def make_private(session) -> None:
        session.scalar(select(Show)).private = True

    edit(app, make_private)
    assert left(links) == []
    server.stop()
    status, headers, _ = answer(proxy.port, FEED)
    assert (status, headers["Retry-After"]) == (503, "30")


def test_gunicorn_stopped_right_after_another_show_is_edited_leaves_every_public_feed_and_episode_answering(
    tmp_path,
):
    """Kept copies are replaced by newer versions and dropped when they stop being public, never because some
    other show changed: the moment gunicorn goes down after an edit, listeners go on."""
    config, app, *_ = accel_demo(tmp_path)
    config["analytics"] = False  # so that nginx sends the audio alone without a media log
    server = Gunicorn(app_environment(config), tmp_path)
    server.start()
    proxy = Nginx(f"127.0.0.1:{server.port}", tmp_path / "nginx", media=Path(config["storage_path"]))
    proxy.start()
    links = Path(config["storage_path"]) / ".published"
    try:
        _, _, body = sent_alone(proxy.port, links)
        with app.app_context():
            episode = db.session.scalar(select(Episode))
            audio = f"/media/{episode.audio.public_id}/{episode.slug}{episode.audio.extension}"
            stored = Path(config["storage_path"]) / episode.audio.key
            db.session.remove()
        answered_alone(proxy.port, audio, lambda w: any((links / w).glob(f"*/{audio.split('/')[2]}.*")))

        def another_show(session) -> None:
            session.add(Show(slug="another", title="Another", description="d", owner_email="a@example.org"))

        edit(app, another_show)
        server.stop()
        assert answer(proxy.port, FEED)[::2] == (200, body)
        status, _, part = answer(proxy.port, audio, Range="bytes=0-99")
        assert (status, part) == (206, stored.read_bytes()[:100])
    finally:
        proxy.stop()
        server.stop()


def poll_for_nginx(app, **headers: str):
    """A poll that nginx passes on because it found no file (the service leaves them)."""
    with app.app_context():
        response = app.test_client().get(FEED, headers={feed_files.HEADER: "1", **headers})
        db.session.remove()
    return response


@pytest.fixture
def demo(tmp_path):
    """The demo show on SQLite and the local folder, as nginx's service sees it: (app, the links' folder)."""
    config, _, *_ = accel_demo(tmp_path)
    app = create_app(config)
    yield app, Path(config["storage_path"]) / ".published"
    with app.app_context():
        db.session.remove()
        dispose_app(app)


def test_files_left_while_a_change_commits_are_dropped_by_whichever_comes_second(demo, monkeypatch):
    app, links = demo
    real_leave = feed_files.leave

    def change_while_leaving(*args, still_current, **kwargs) -> None:
        def check() -> bool:  # the change commits after the files are written, before they are checked
            # In its own app context, hence its own session, as another process's.
            edit(app, lambda session: setattr(session.scalar(select(Episode)), "title", "Changed"))
            return still_current()

        real_leave(*args, still_current=check, **kwargs)

    monkeypatch.setattr(feed_files, "leave", change_while_leaving)
    response = poll_for_nginx(app)
    assert response.status_code == 200 and titles(response.data) != ["Changed"]
    assert left(links) == []
    monkeypatch.undo()
    response = poll_for_nginx(app)
    assert titles(response.data) == ["Changed"] and len(left(links)) == 4
    assert (links / "feeds" / f"{SLUG}.xml").read_bytes() == response.data


def test_a_full_disk_or_an_unusable_folder_leaves_nothing_and_the_poll_is_answered(demo, monkeypatch, caplog):
    app, links = demo
    real_utime = os.utime

    def full(path, *args, **kwargs) -> None:
        if ".xml" in str(path):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_utime(path, *args, **kwargs)

    monkeypatch.setattr(os, "utime", full)
    with caplog.at_level(logging.WARNING):
        response = poll_for_nginx(app)
    assert response.status_code == 200 and titles(response.data)
    assert "No space left on device" in caplog.text
    assert [p for p in links.rglob("*") if not p.is_dir()] == []  # no half file, no temporary one
    monkeypatch.undo()
    shutil.rmtree(links)
    links.write_text("not a folder")  # the folder is a file: nothing can be left, and the poll is answered
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert poll_for_nginx(app).status_code == 200
    assert "cannot leave the feed" in caplog.text


def test_an_upgraded_database_builds_its_feeds_again_with_nginxs_etags(app_config):
    """Feeds built before the sizes were kept have no ETag nginx could give: the upgrade has them built again."""
    app = create_app(app_config)
    with app.app_context():
        flask_migrate.upgrade()
        assert app.test_cli_runner().invoke(args=["import-episodes", str(DEMO_EPISODES)]).exit_code == 0
        assert app.test_client().get(FEED).status_code == 200
        db.session.remove()
        flask_migrate.downgrade(revision="0012_user_language")
        fresh = db.session.execute(db.text("SELECT stale, generation FROM cached_feeds")).one()
        db.session.remove()
        flask_migrate.upgrade()
        row = db.session.scalar(select(CachedFeed))
        assert (row.stale, row.generation, row.size) == (True, fresh.generation + 1, None) and not fresh.stale
        response = app.test_client().get(FEED)
        row = db.session.scalar(select(CachedFeed))
        assert response.headers["ETag"] == nginx_etag(row) and row.size == len(response.data)
        db.session.remove()
        dispose_app(app)


def test_a_feed_stored_without_its_sizes_by_an_older_release_is_built_again(app, client, make_episode):
    """During a rolling upgrade a process of the release before stores builds without sizes, which no ETag
    can be made from: such a row counts as stale."""
    make_episode(title="One")
    assert client.get("/shows/test-show/feed.xml").status_code == 200
    db.session.execute(db.update(CachedFeed).values(size=None, gzipped_size=None))
    db.session.commit()
    response = client.get("/shows/test-show/feed.xml")
    row = db.session.scalar(select(CachedFeed))
    assert response.status_code == 200 and row.size == len(response.data)
    assert response.headers["ETag"] == nginx_etag(row)
