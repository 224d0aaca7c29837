"""Media storage backends by name: every configured one can be read, new files go to the primary.

- base.py: the interface every backend implements, and what they share;
- local.py: a folder on the local disk (the embedded default); s3.py: any S3-compatible store;
- migrate.py: moving media between backends; check.py: the store against the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from ...core.errors import StorageError
from ...core.settings import Settings
from .base import PRIVATE_PREFIX, Storage, StoredObject
from .local import LocalStorage
from .s3 import S3Storage

__all__ = ["PRIVATE_PREFIX", "Storage", "StoredObject", "Stores", "make_stores", "new_key", "private_key", "public_key"]


class Stores:
    """The stores this instance can reach, by name.

    Each MediaFile row names the backend holding its object, so files keep
    being served from where they are while `storage-migrate` moves them.
    """

    def __init__(self, stores: dict[str, Storage], primary: str) -> None:
        self._stores = stores
        self.primary = stores[primary]

    def __getitem__(self, name: str) -> Storage:
        try:
            return self._stores[name]
        except KeyError:
            raise StorageError(f"storage backend {name!r} is not configured on this instance") from None

    def __iter__(self) -> Iterator[Storage]:
        return iter(self._stores.values())


def make_stores(settings: Settings) -> Stores:
    """The local folder always (it costs nothing), S3 when a bucket is configured."""
    stores: dict[str, Storage] = {
        "local": LocalStorage(
            settings.storage_path, file_mode=settings.media_file_mode, accel_prefix=settings.accel_redirect
        )
    }
    if settings.s3_bucket:
        stores["s3"] = S3Storage(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            public_base_url=settings.s3_public_base_url,
            timeout=settings.storage_timeout_seconds,
        )
    return Stores(stores, settings.storage_backend)


def new_key(kind: str, extension: str, *, private: bool = False) -> str:
    """A fresh, unguessable key such as audio/3f2c...e1.mp3 (private/audio/... with `private`); never derived
    from user input."""
    return f"{PRIVATE_PREFIX if private else ''}{kind}/{uuid.uuid4().hex}{extension.lower()}"


def public_key(key: str) -> str:
    """The key an object has where anonymous readers reach it."""
    return key.removeprefix(PRIVATE_PREFIX)


def private_key(key: str) -> str:
    return key if key.startswith(PRIVATE_PREFIX) else PRIVATE_PREFIX + key
