"""The storage contract every backend must meet; each new backend joins the `store` fixture's params."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from podcast_service.errors import StorageError
from podcast_service.storage import new_key
from podcast_service.storage.local import LocalStorage


@pytest.fixture(params=["local"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "media")
    raise AssertionError(request.param)


PAYLOAD = os.urandom(3 * 1024 * 1024 + 17)  # more than one chunk, not a multiple of it


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
    assert data == PAYLOAD[start: None if end is None else end + 1]


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
