"""The storage contract every backend must meet; each new backend joins the `store` fixture's params."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from podcast_service.core.errors import StorageError
from podcast_service.media.storage import new_key
from podcast_service.media.storage.local import LocalStorage
from podcast_service.media.storage.s3 import S3Storage


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "media")
    seaweedfs = request.getfixturevalue("seaweedfs")
    # A small part size, so a few MiB already take the multipart path.
    return S3Storage(
        request.getfixturevalue("s3_bucket"),
        endpoint_url=seaweedfs.endpoint,
        region="us-east-1",
        part_size=5 * 1024 * 1024,
    )


PAYLOAD = os.urandom(11 * 1024 * 1024 + 17)  # several chunks and parts, not a multiple of either


def test_put_reports_size_and_checksum(store):
    key = new_key("audio", ".mp3")
    obj = store.put(key, io.BytesIO(PAYLOAD), content_type="audio/mpeg", download_name="a.mp3")
    assert (obj.key, obj.size, obj.sha256) == (key, len(PAYLOAD), hashlib.sha256(PAYLOAD).hexdigest())
    assert store.size(key) == len(PAYLOAD)
    assert store.exists(key)
    assert key in list(store.keys())


@pytest.mark.parametrize(("start", "end"), [(0, None), (0, 0), (10, 1_000_000), (len(PAYLOAD) - 5, None)])
def test_open_reads_exact_ranges(store, start, end):
    key = new_key("audio", ".mp3")
    store.put(key, io.BytesIO(PAYLOAD), content_type="audio/mpeg")
    with store.open(key, start, end) as fh:
        data = fh.read()
    assert data == PAYLOAD[start : None if end is None else end + 1]


def test_short_reads_from_the_source_lose_no_bytes(store):
    """A request body hands over a few KiB per read; every byte must still arrive, in order."""

    class Trickle(io.RawIOBase):
        def __init__(self, data):
            self.data = memoryview(data)

        def readable(self):
            return True

        def readinto(self, b):
            n = min(len(b), 64 * 1024, len(self.data))
            b[:n] = self.data[:n]
            self.data = self.data[n:]
            return n

    key = new_key("audio", ".mp3")
    obj = store.put(key, Trickle(PAYLOAD), content_type="audio/mpeg")
    assert obj.size == len(PAYLOAD)
    with store.open(key) as fh:
        assert fh.read() == PAYLOAD


def test_delete_is_idempotent(store):
    key = new_key("images", ".jpg")
    store.put(key, io.BytesIO(b"x"), content_type="image/jpeg")
    store.delete(key)
    store.delete(key)
    assert not store.exists(key)
    assert key not in list(store.keys())


def test_missing_objects_raise_storage_error(store):
    key = new_key("audio", ".mp3")
    with pytest.raises(StorageError):
        store.size(key)
    with pytest.raises(StorageError):
        store.open(key)


@pytest.mark.parametrize("key", ["../escape.mp3", "audio/../../x", "/etc/passwd", "audio/My File.mp3", "audio"])
def test_keys_outside_the_service_shape_are_refused(store, key):
    with pytest.raises(StorageError, match="invalid storage key"):
        store.put(key, io.BytesIO(b"x"), content_type="audio/mpeg")


def test_a_failing_stream_leaves_no_object(store):
    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, b):
            raise ConnectionResetError("client went away")

    key = new_key("audio", ".mp3")
    with pytest.raises(ConnectionResetError):
        store.put(key, Broken(), content_type="audio/mpeg")
    assert not store.exists(key)
    assert list(store.keys()) == []
    assert store.pending_uploads() == []


def test_a_stream_failing_after_some_parts_aborts_the_multipart_upload(store):
    """The first parts reach the store; the failure must not leave them behind."""

    class FailsLate(io.RawIOBase):
        def __init__(self):
            self.sent = 0

        def readable(self):
            return True

        def readinto(self, b):
            if self.sent > 7 * 1024 * 1024:
                raise ConnectionResetError("client went away")
            n = len(b)
            b[:n] = bytes(n)
            self.sent += n
            return n

    key = new_key("audio", ".mp3")
    with pytest.raises(ConnectionResetError):
        store.put(key, FailsLate(), content_type="audio/mpeg")
    assert not store.exists(key)
    assert store.pending_uploads() == []


def test_s3_objects_carry_type_cache_and_disposition(seaweedfs, s3_bucket):
    store = S3Storage(s3_bucket, endpoint_url=seaweedfs.endpoint, region="us-east-1")
    key = new_key("audio", ".mp3")
    store.put(key, io.BytesIO(b"ID3" + bytes(100)), content_type="audio/mpeg", download_name="episode-1.mp3")
    head = seaweedfs.client().head_object(Bucket=s3_bucket, Key=key)
    assert head["ContentType"] == "audio/mpeg"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert head["ContentDisposition"] == 'inline; filename="episode-1.mp3"'
