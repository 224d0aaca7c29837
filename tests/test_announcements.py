"""Hubs and directories hear of every change: a test HTTP server on 127.0.0.1 stands in for both.

The pings go out from a real worker process (`flask worker`) on the stack's queue, as in production:
web processes start no threads of their own.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fixtures.app import AUDIO, BASE_URL, multipart
from fixtures.services import Gunicorn, Worker, app_environment
from lxml import etree

from podcast_service.core.extensions import db
from podcast_service.models import Announcement, utcnow

pytestmark = pytest.mark.servers

FEED_URL = BASE_URL + "/shows/test-show/feed.xml"


class Hub:
    """Records every request; answers with the queued status codes (then 204), once its gate is open."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str, str, dict]] = []  # (time, method, path, form or query)
        self.statuses: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, form: dict) -> None:
                hub.gate.wait(30)
                hub.calls.append((time.time(), self.command, urllib.parse.urlsplit(self.path).path, form))
                self.send_response(hub.statuses.pop(0) if hub.statuses else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                self._answer(dict(urllib.parse.parse_qsl(body)))

            def do_GET(self) -> None:
                self._answer(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)))

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for_live(self, at: float, timeout: float = 60) -> set[str]:
        """The targets pinged at or after `at` (when a scheduled episode went live), once both were."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            live = {path for when, _, path, _ in self.calls if when >= at}
            if live >= {"/hub", "/pubnotify"}:
                return live
            time.sleep(0.05)
        raise AssertionError(f"no ping after {at}: {self.calls}")

    def wait_for(self, count: int, timeout: float = 20) -> list:
        deadline = time.time() + timeout
        while len(self.calls) < count and time.time() < deadline:
            time.sleep(0.05)
        assert len(self.calls) >= count, self.calls
        return self.calls


@pytest.fixture
def hub():
    hub = Hub()
    hub.thread.start()
    yield hub
    hub.server.shutdown()
    hub.server.server_close()


@pytest.fixture
def app_config(app_config, hub):
    app_config.update(
        websub_hubs=[hub.url + "/hub"],
        pubnotify_urls=[hub.url + "/pubnotify"],
        announce_retry_seconds=1,
        jobs_immediate=False,
    )
    return app_config


@pytest.fixture
def worker(app, app_config, tmp_path):
    """A job worker, started after the app (and its tables) exist."""
    worker = Worker(app_environment(app_config), tmp_path, threads=2)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def show(show):
    """The test show, with the announcement of its own creation dropped: each test starts with an empty queue."""
    db.session.query(Announcement).delete()
    db.session.commit()
    return show


def publish(client, headers, **fields):
    return client.post(
        "/api/v1/shows/test-show/episodes",
        headers=headers,
        **multipart(audio=((AUDIO / "cbr.mp3").read_bytes(), "episode.mp3"), **fields),
    )


def test_a_publish_pings_the_hub_and_pubnotify(client, show, admin_headers, hub, worker):
    assert publish(client, admin_headers, status="published").status_code == 201
    calls = hub.wait_for(2)
    requests = {(method, path): form for _, method, path, form in calls}
    assert requests[("POST", "/hub")] == {"hub.mode": "publish", "hub.url": FEED_URL}
    assert requests[("GET", "/pubnotify")] == {"url": FEED_URL}
    feed = etree.fromstring(client.get("/shows/test-show/feed.xml").data)
    assert feed.xpath("//atom:link[@rel='hub']/@href", namespaces={"atom": "http://www.w3.org/2005/Atom"}) == [
        hub.url + "/hub"
    ]


def test_a_slow_failing_hub_neither_blocks_the_producer_nor_is_forgotten(client, show, admin_headers, hub, worker):
    hub.statuses = [500, 500]  # the first round fails at both targets
    hub.gate.clear()  # the hub holds every request until the producer has their answer
    assert publish(client, admin_headers, status="published").status_code == 201
    assert hub.calls == []  # answered while the hub had not replied to anything
    hub.gate.set()
    calls = hub.wait_for(4)  # the failed round, then the retry a second later
    assert [c[2] for c in calls[:4]].count("/hub") == 2
    log = worker.log_path.read_text()
    assert "will retry" in log and "HTTP Error 500" in log
    deadline = time.time() + 10
    while db.session.query(Announcement).count() and time.time() < deadline:
        time.sleep(0.1)
        db.session.rollback()
    assert db.session.query(Announcement).count() == 0


def test_a_scheduled_episode_is_announced_when_it_goes_live(app, client, show, admin_headers, hub, worker):
    at = utcnow() + timedelta(seconds=3)
    r = publish(client, admin_headers, status="scheduled", publish_at=at.isoformat())
    assert r.status_code == 201
    hub.wait_for(2)  # the change itself: a new scheduled episode
    # And again once it is live, with no request in between. (On a busy machine the first ping may come
    # after that moment too; then one round covers both.)
    hub.wait_for_live(at.timestamp())
    deadline = time.time() + 30
    while db.session.query(Announcement).count() and time.time() < deadline:  # the scheduled row was sent
        db.session.rollback()
        time.sleep(0.1)
    assert db.session.query(Announcement).count() == 0 and utcnow() >= at


def test_private_shows_are_never_announced(app, client, show, admin_headers, hub, worker):
    assert client.patch("/api/v1/shows/test-show", json={"private": True}, headers=admin_headers).status_code == 200
    assert publish(client, admin_headers, status="published").status_code == 201
    time.sleep(1.5)
    assert hub.calls == [] and db.session.query(Announcement).count() == 0


def test_a_worker_started_later_sends_a_scheduled_ping_on_time_with_no_request(
    app, app_config, make_episode, show, hub, tmp_path
):
    """The ping was queued while no worker ran (the message may be gone too): the worker finds the row."""
    at = utcnow() + timedelta(seconds=3)
    make_episode(published_at=at)
    server = Gunicorn(app_environment(app_config), tmp_path)
    server.start()  # the web server is started and never asked anything: it sends nothing itself
    worker = Worker(app_environment(app_config), tmp_path)
    worker.start()
    try:
        hub.wait_for_live(at.timestamp())  # the scheduled one (the change itself went out at the worker's start)
    finally:
        worker.stop()
        server.stop()
    assert {(method, path) for _, method, path, _ in hub.calls} == {("GET", "/pubnotify"), ("POST", "/hub")}


def test_rows_a_live_sender_holds_are_not_sent_twice_and_a_dead_ones_are_sent(app, show, hub):
    """Two senders never send the same announcement; one that died (its lease ran out) leaves it to the next."""
    from podcast_service.feed import announce

    db.session.add(Announcement(show_id=show.id, due_at=utcnow(), attempts=0))
    db.session.commit()
    token = announce.LEASES.claim(Announcement.show_id == show.id)  # another sender, still at work
    assert token is not None
    next_due = announce.run_due()
    assert hub.calls == []
    assert next_due is not None and next_due > utcnow()  # asked again when that sender's lease runs out
    db.session.execute(
        Announcement.__table__.update().values(lease_until=utcnow() - timedelta(seconds=1))
    )  # ... and it died
    db.session.commit()
    assert announce.run_due() is None
    assert {path for _, _, path, _ in hub.calls} == {"/hub", "/pubnotify"}
    assert db.session.query(Announcement).count() == 0
