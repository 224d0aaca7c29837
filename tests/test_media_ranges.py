"""Enclosure delivery as podcast apps and Apple's checks use it: HEAD, ranges, 416, conditional GET."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fixtures.app import AUDIO, fetch

from podcast_service.core import urls
from podcast_service.models import utcnow

FILE = AUDIO / "cbr.mp3"
DATA = FILE.read_bytes()
SIZE = len(DATA)


@pytest.fixture
def url(make_episode):
    return urlsplit(urls.audio_url(make_episode("cbr.mp3"))).path


def get(client, url, **headers):
    return fetch(client, url, **headers)


def test_full_get(client, url):
    r = get(client, url)
    assert r.status == 200
    assert r.data == DATA
    assert r.headers["content-length"] == str(SIZE)
    assert r.headers["content-type"] == "audio/mpeg"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["etag"] and r.headers["last-modified"]


def test_head_has_the_headers_and_no_body(client, url):
    r = fetch(client, url, "HEAD")
    assert r.status == 200
    assert r.data == b""
    assert r.headers["content-length"] == str(SIZE)
    assert r.headers["content-type"] == "audio/mpeg"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-1", 0, 1),  # what Apple and Safari ask first
        ("bytes=100-4195", 100, 4195),
        (f"bytes={SIZE - 10}-", SIZE - 10, SIZE - 1),
        ("bytes=-500", SIZE - 500, SIZE - 1),
        (f"bytes=1000-{SIZE * 2}", 1000, SIZE - 1),  # an end past the file is clipped
    ],
)
def test_single_ranges_are_byte_exact(client, url, header, start, end):
    r = get(client, url, Range=header)
    assert r.status == 206
    assert r.headers["content-range"] == f"bytes {start}-{end}/{SIZE}"
    assert r.headers["content-length"] == str(end - start + 1)
    assert r.data == DATA[start : end + 1]


def test_unsatisfiable_range_is_416(client, url):
    r = get(client, url, Range=f"bytes={SIZE}-")
    assert r.status == 416
    assert r.headers["content-range"] == f"bytes */{SIZE}"


def test_if_range_with_a_stale_etag_sends_the_whole_file(client, url):
    r = get(client, url, Range="bytes=0-9", **{"If-Range": '"stale"'})
    if r.redirected:
        # S3 stores ignore If-Range (it is not among GetObject's conditions). Keys are
        # immutable, so the bytes at this URL cannot have changed and the range is still right.
        assert r.status == 206 and r.data == DATA[:10]
    else:
        assert r.status == 200 and r.data == DATA


def test_conditional_get_gives_304(client, url):
    etag = get(client, url).headers["etag"]
    r = get(client, url, **{"If-None-Match": etag})
    assert r.status == 304 and r.data == b""


def test_wrong_extension_and_unknown_id_are_404(client, url):
    assert get(client, url.removesuffix(".mp3") + ".m4a").status == 404
    assert get(client, "/media/0123456789abcdef0123456789abcdef/x.mp3").status == 404


def test_media_of_drafts_and_scheduled_episodes_is_not_served(client, make_episode):
    draft = make_episode(published_at=None)
    later = make_episode(published_at=utcnow() + timedelta(days=1))
    for episode in (draft, later):
        assert get(client, urlsplit(urls.audio_url(episode)).path).status == 404
