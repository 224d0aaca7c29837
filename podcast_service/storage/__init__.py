"""Media storage backends, chosen by name in the settings."""

from __future__ import annotations

import uuid

from ..settings import Settings
from .base import Storage, StoredObject
from .local import LocalStorage
from .s3 import S3Storage

__all__ = ["Storage", "StoredObject", "make_storage", "new_key"]


def make_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "local":
        return LocalStorage(settings.storage_path)
    if settings.storage_backend == "s3":
        return S3Storage(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
                         public_base_url=settings.s3_public_base_url)
    raise AssertionError(f"unvalidated storage backend {settings.storage_backend!r}")


def new_key(kind: str, extension: str) -> str:
    """A fresh, unguessable key such as audio/3f2c...e1.mp3; never derived from user input."""
    return f"{kind}/{uuid.uuid4().hex}{extension.lower()}"
