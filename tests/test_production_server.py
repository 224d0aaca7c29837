"""The README's production start: gunicorn with several workers, sharing nothing in memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit

import pytest

from podcast_service import urls
from services import free_ports


@pytest.fixture
def gunicorn(app_config, demo, tmp_path):
    """Two gunicorn workers serving the demo show from the same database and store as the test."""
    [port] = free_ports(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODCAST_")}
    env.update({f"PODCAST_{k.upper()}": str(v) for k, v in app_config.items()})
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "podcast_service:create_app()"],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError((tmp_path / "gunicorn.log").read_text()) from None
            time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


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
