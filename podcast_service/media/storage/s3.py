"""Media in any S3-compatible object store (AWS S3, SeaweedFS, MinIO, R2). The only module importing boto3.

Uploads stream in fixed-size parts, so memory stays bounded whatever the file
size, and a failed upload is aborted so no parts linger in the bucket.
Objects are written with their Content-Type, a year-long immutable
Cache-Control (keys are never reused) and an inline Content-Disposition with
a safe file name. Clients are sent to the store by redirect: for public files to the public
base URL (a CDN or public bucket) when one is set, else, and always for
private shows' files, previews and anything under the private prefix, to a
short-lived presigned URL.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import redirect, request
from werkzeug.wrappers import Response as BaseResponse

from ...core.errors import StorageError
from .base import PRIVATE_PREFIX, PendingUpload, Storage, StoredObject, check_key

log = logging.getLogger(__name__)
PART_SIZE = 8 * 1024 * 1024  # S3 wants at least 5 MiB per part but the last; 8 MiB x 10,000 parts = 78 GiB
# Parts sent at once: enough to keep the connection busy, few enough to bound memory (3 x 8 MiB).
CONCURRENCY = 3
PRESIGN_SECONDS = 15 * 60
# How long a failed abort is retried in the background (a process that dies first leaves it to storage-check).
ABORT_RETRY_SECONDS = 10 * 60
CACHE_CONTROL = "public, max-age=31536000, immutable"


class PartReader:
    """Cuts a stream into part-sized in-memory files, hashing each byte as it passes.

    Each part is read straight into its own buffer (no intermediate copies),
    so memory is about `concurrency` parts however large the file. Short
    reads, as a request body gives, are read on until the part is full.
    """

    def __init__(self, stream: BinaryIO, part_size: int) -> None:
        self._stream = stream
        self._part_size = part_size
        self._sha = hashlib.sha256()
        self.size = 0

    def next(self) -> io.BytesIO:
        """The next part, empty at the end of the stream."""
        part = io.BytesIO()
        part.seek(self._part_size - 1)
        part.write(b"\0")  # one allocation of the full part
        filled = 0
        with part.getbuffer() as view:
            while filled < self._part_size:
                n = self._read_into(view[filled:])
                if not n:
                    break
                filled += n
            self._sha.update(view[:filled])
        part.truncate(filled)
        part.seek(0)
        self.size += filled
        return part

    def _read_into(self, view: memoryview) -> int:
        if hasattr(self._stream, "readinto"):
            return self._stream.readinto(view) or 0
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


def _missing(e: ClientError) -> bool:
    return e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


class S3Storage(Storage):
    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str = "",
        region: str = "",
        public_base_url: str = "",
        part_size: int = PART_SIZE,
        concurrency: int = CONCURRENCY,
        timeout: int = 30,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self.public_base_url = public_base_url.rstrip("/")
        self.part_size = part_size
        self.concurrency = concurrency
        self.timeout = timeout

    @cached_property
    def client(self) -> Any:
        """Credentials come the boto3 way: environment, profile or instance role; never the config file.

        With a custom endpoint, path-style addressing: SeaweedFS, MinIO and
        most self-hosted stores have no wildcard DNS for bucket subdomains.
        """
        config = Config(
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            retries={"max_attempts": 3, "mode": "standard"},
            # The service computes its own SHA-256 of every upload; a second checksum pass costs throughput.
            request_checksum_calculation="when_required",
            connect_timeout=min(5, self.timeout),
            read_timeout=self.timeout,
            # SigV4 everywhere: some regions and stores refuse the older signature in presigned URLs.
            signature_version="s3v4",
        )
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=config
        )

    @cached_property
    def quick_client(self) -> Any:
        """For the health check: one try, answered within two seconds or counted as down."""
        config = Config(
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=1,
            read_timeout=1,
        )
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=config
        )

    def _fail(self, action: str, key: str, e: Exception) -> StorageError:
        return StorageError(f"object storage could not {action} {key} in bucket {self.bucket}: {e}")

    def put(self, key: str, stream: BinaryIO, *, content_type: str, download_name: str | None = None) -> StoredObject:
        check_key(key)
        parts = PartReader(stream, self.part_size)
        extra = {"ContentType": content_type, "CacheControl": CACHE_CONTROL}
        if download_name:
            extra["ContentDisposition"] = f'inline; filename="{download_name}"'
        first = parts.next()
        if len(first.getbuffer()) < self.part_size:
            try:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=first, **extra)
            except (BotoCoreError, ClientError) as e:
                raise self._fail("store", key, e) from e
        else:
            self._multipart(key, first, parts, extra)
        return StoredObject(key, parts.size, parts.sha256)

    def _multipart(self, key: str, first: io.BytesIO, parts: PartReader, extra: dict[str, str]) -> None:
        """Send parts from a few threads, at most `concurrency` in memory; abort on any failure.

        The source is read and hashed in this thread, in order; only the
        network sends run in parallel, which is where the time goes.
        """
        try:
            upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, **extra)["UploadId"]
        except (BotoCoreError, ClientError) as e:
            raise self._fail("start uploading", key, e) from e

        def send(number: int, body: io.BytesIO) -> dict[str, Any]:
            etag = self.client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )["ETag"]
            return {"PartNumber": number, "ETag": etag}

        sent: list[dict[str, Any]] = []
        in_flight: deque[Future] = deque()
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="s3-part") as pool:
            try:
                body, number = first, 1
                while len(body.getbuffer()):
                    if len(in_flight) >= self.concurrency:
                        sent.append(in_flight.popleft().result())
                    in_flight.append(pool.submit(send, number, body))
                    body, number = parts.next(), number + 1
                sent.extend(f.result() for f in in_flight)
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": sent}
                )
            except BaseException as e:
                for future in in_flight:
                    future.cancel()
                wait(in_flight)  # no part may land after the abort
                self._abort(key, upload_id)
                if isinstance(e, (BotoCoreError, ClientError)):
                    raise self._fail("upload", key, e) from e
                raise

    def _abort(self, key: str, upload_id: str) -> None:
        """Abort now, or, when the store is down, keep trying in the background until it is back."""
        upload = PendingUpload(key, upload_id, datetime.now(UTC))
        try:
            self.abort_upload(upload)
        except StorageError:
            log.warning("could not abort the multipart upload of %s; retrying in the background", key)
            threading.Thread(target=self._abort_later, args=(upload,), name="s3-abort", daemon=True).start()

    def _abort_later(self, upload: PendingUpload) -> None:
        delay, deadline = 1.0, time.monotonic() + ABORT_RETRY_SECONDS
        while time.monotonic() < deadline:
            time.sleep(delay)
            try:
                self.abort_upload(upload)
            except StorageError:
                delay = min(delay * 2, 30.0)
                continue
            log.info("aborted the abandoned multipart upload of %s", upload.key)
            return
        log.error("gave up aborting the multipart upload of %s; storage-check --fix will remove it", upload.key)

    def abort_upload(self, upload: PendingUpload) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload.key, UploadId=upload.upload_id)
        except (BotoCoreError, ClientError) as e:
            raise self._fail("abort the upload of", upload.key, e) from e

    def open(self, key: str, start: int = 0, end: int | None = None) -> BinaryIO:
        check_key(key)
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if start or end is not None:
            args["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            return self.client.get_object(**args)["Body"]
        except (BotoCoreError, ClientError) as e:
            raise self._fail("read", key, e) from e

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as e:
            if _missing(e):
                return None
            raise self._fail("look up", key, e) from e
        except BotoCoreError as e:
            raise self._fail("look up", key, e) from e

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise StorageError(f"{key} does not exist in bucket {self.bucket}")
        return int(head["ContentLength"])

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=check_key(key))
        except (BotoCoreError, ClientError) as e:
            raise self._fail("delete", key, e) from e

    @property
    def separates_private(self) -> bool:  # type: ignore[override]
        """With a public base URL the bucket is read anonymously (a CDN or a public bucket), but for
        PRIVATE_PREFIX, which its access rules must keep from anonymous readers (docs/media.md)."""
        return bool(self.public_base_url)

    def move(self, key: str, new_key: str) -> None:
        """A server-side copy (in parts past 5 GB), with the object's Content-Type, Cache-Control and
        Content-Disposition."""
        head = self._head(key)
        if head is None:
            raise StorageError(f"{key} does not exist in bucket {self.bucket}")
        extra = {name: head[name] for name in ("ContentType", "CacheControl", "ContentDisposition") if head.get(name)}
        try:
            self.client.copy(
                {"Bucket": self.bucket, "Key": check_key(key)},
                self.bucket,
                check_key(new_key),
                ExtraArgs={**extra, "MetadataDirective": "REPLACE"},
            )
        except (BotoCoreError, ClientError) as e:
            raise self._fail("copy", key, e) from e

    def objects(self) -> Iterator[tuple[str, datetime]]:
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                for item in page.get("Contents", []):
                    yield item["Key"], item["LastModified"]
        except (BotoCoreError, ClientError) as e:
            raise self._fail("list", "objects", e) from e

    def check(self) -> None:
        try:
            self.quick_client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as e:
            raise self._fail("reach", "the bucket", e) from e

    def pending_uploads(self) -> list[PendingUpload]:
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket)
            return [
                PendingUpload(u["Key"], u["UploadId"], u["Initiated"])
                for page in pages
                for u in page.get("Uploads", [])
            ]
        except (BotoCoreError, ClientError) as e:
            raise self._fail("list", "multipart uploads", e) from e

    def url(self, key: str, *, method: str = "GET", public: bool = True) -> str:
        """Where a client fetches the object: the public base URL for a public file, else a presigned URL
        for `method` that expires in minutes."""
        if self.public_base_url and public and not key.startswith(PRIVATE_PREFIX):
            return f"{self.public_base_url}/{check_key(key)}"
        operation = "head_object" if method == "HEAD" else "get_object"
        return self.client.generate_presigned_url(
            operation, Params={"Bucket": self.bucket, "Key": check_key(key)}, ExpiresIn=PRESIGN_SECONDS
        )

    def client_origins(self) -> tuple[str, ...]:
        """The public base URL's origin and the one presigned URLs point at (read off a URL signed here, so
        AWS's virtual-hosted names come out as the browser will see them)."""
        urls = [self.url("audio/origin-probe.mp3", public=False)]
        if self.public_base_url:
            urls.append(self.public_base_url)
        return tuple(dict.fromkeys(f"{part.scheme}://{part.netloc}" for part in map(urlsplit, urls)))

    def send(
        self, key: str, *, mimetype: str, etag: str, last_modified: datetime, download_name: str, public: bool
    ) -> BaseResponse:
        """A 302 to the object: the enclosure URL stays on the service while the bytes come from the store.

        A presigned URL is bound to its HTTP method, so a HEAD gets a URL signed for HEAD.
        """
        to_public_url = public and bool(self.public_base_url) and not key.startswith(PRIVATE_PREFIX)
        response = redirect(self.url(key, method=request.method, public=public), code=302)
        # Presigned URLs expire: nobody may cache the redirect longer than a minute.
        response.cache_control.max_age = 60 if to_public_url else 0
        return response
