"""What the production setup (deploy/nginx.conf, gunicorn.conf.py) writes to its logs, and the headers nginx adds.

A listener's address, a subscriber's token and a preview key are each secrets a log would keep for as long as
the operator keeps logs: every line written by nginx and gunicorn is read for them after real requests.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest
from fixtures.app import AUDIO, dispose_app
from fixtures.production import CLIENT, accel_demo, answer, answered_alone
from fixtures.services import Gunicorn, Nginx, app_environment
from lxml import etree

from podcast_service.accounts import subscribers
from podcast_service.catalogue.inputs import EpisodeInput, ShowInput
from podcast_service.catalogue.service import save_episode, save_show
from podcast_service.core.extensions import db
from podcast_service.models import Episode, utcnow

pytestmark = pytest.mark.servers


def secrets_of(app) -> tuple[str, str, str]:
    """A members-only show beside the demo: (its subscriber's token, the demo episode's preview key, its slug)."""
    with app.app_context():
        demo = db.session.query(Episode).one()
        members = save_show(
            ShowInput(
                slug="members",
                title="Members",
                description="d",
                author="A",
                owner_name="A",
                owner_email="a@example.org",
                categories=["Technology"],
                private=True,
            )
        )
        save_episode(members, EpisodeInput(title="For members", published_at=utcnow()), AUDIO / "cbr.mp3")
        _subscriber, token = subscribers.create_subscriber(members, "Alice")
        db.session.commit()
        key, slug = demo.preview_key, demo.show.slug
        db.session.remove()
        dispose_app(app)
    return token, key, slug


def test_logs_keep_no_address_token_or_key_and_nginx_says_nosniff_without_its_version(tmp_path):
    config, app, audio_path, stored, _etag = accel_demo(tmp_path)
    token, key, slug = secrets_of(app)
    media = Path(config["storage_path"])
    # Counting from nginx's media log (a file on tmpfs the service reads and frees; it holds addresses by design).
    (tmp_path / "run").mkdir()
    config["analytics_log_file"] = str(tmp_path / "run" / "media.log")
    server = Gunicorn(app_environment(config), tmp_path / "gunicorn")
    (tmp_path / "gunicorn").mkdir()
    server.start()
    proxy = Nginx(f"127.0.0.1:{server.port}", tmp_path / "nginx", media=media, media_log=config["analytics_log_file"])
    proxy.start()
    try:
        # A public feed asked before nginx has a file for it: a miss, then the service answers.
        status, headers, _ = answer(proxy.port, f"/shows/{slug}/feed.xml")
        assert status == 200 and headers["Server"] == "nginx"
        # The demo's audio, sent by nginx alone from the service's link.
        public_id = audio_path.split("/")[2]
        status, headers, body, _ = answered_alone(
            proxy.port, audio_path, lambda window: any((media / ".published" / window).glob(f"*/{public_id}.*"))
        )
        assert status == 200 and body == stored.read_bytes()
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Server"] == "nginx"
        # The subscriber's feed and audio (sent by nginx through X-Accel-Redirect), the producer's preview.
        status, _, feed = answer(proxy.port, f"/subscriptions/{token}/feed.xml")
        assert status == 200
        [enclosure] = etree.fromstring(feed).xpath("//enclosure/@url")
        status, headers, _ = answer(proxy.port, urllib.parse.urlsplit(enclosure).path, Range="bytes=0-99")
        assert status == 206 and headers["X-Content-Type-Options"] == "nosniff"
        assert answer(proxy.port, f"/preview/{key}/")[0] == 200
        assert answer(proxy.port, f"{audio_path}?preview={key}", Range="bytes=0-99")[0] == 206
        # Misses: a private show's public feed, an unknown token.
        assert answer(proxy.port, "/shows/members/feed.xml")[0] == 404
        status, headers, page = answer(proxy.port, "/subscriptions/no-such-token/feed.xml")
        assert status == 401 and b"nginx/" not in page
        assert "/" not in headers["Server"]
    finally:
        proxy.stop()
        server.stop()
    logs = {p: p.read_text() for p in [*(tmp_path / "nginx").glob("*.log"), server.log_path]}
    lines = [line for text in logs.values() for line in text.splitlines()]
    assert any("/subscriptions/*/feed.xml" in line for line in lines)  # the requests were logged, masked
    assert any("/preview/*/" in line for line in lines)
    for secret in (CLIENT, token, key, "no-such-token"):
        assert [line for line in lines if secret in line] == [], secret
