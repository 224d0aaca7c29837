"""The production start (docs/production.md): gunicorn with several workers, sharing nothing in memory."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

import pytest
from fixtures.services import Gunicorn, app_environment

from podcast_service.core import urls

pytestmark = pytest.mark.servers


@pytest.fixture
def gunicorn(app_config, demo, tmp_path):
    """Two gunicorn workers (the shipped gunicorn.conf.py) serving the demo show from the test's database
    and store."""
    server = Gunicorn(app_environment(app_config), tmp_path, workers=2)
    server.start()
    yield server.url
    server.stop()


def get(url: str, **headers: str):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
        return r.status, dict(r.headers), r.read()


def test_every_worker_serves_the_same_feed_and_media(gunicorn, demo):
    feed = f"{gunicorn}/shows/cyber-security-coalition/feed.xml"
    etags = set()
    for _ in range(20):  # enough requests to reach both workers
        status, headers, body = get(feed)
        assert status == 200 and b"Shaping Belgium" in body
        etags.add(headers["ETag"])
    assert len(etags) == 1  # the feed depends on the data only, not on the process

    audio = gunicorn + urlsplit(urls.audio_url(demo)).path
    status, headers, body = get(audio, Range="bytes=0-99")  # a redirect to S3 is followed by urllib
    assert status == 206 and len(body) == 100
    assert json.loads(get(f"{gunicorn}/healthz")[2]) == {"status": "ok"}
