"""Media in a folder on the local disk: the embedded default."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, BinaryIO, cast

from flask import Response, request, send_file
from werkzeug.http import http_date, quote_etag
from werkzeug.wrappers import Response as BaseResponse

from ...core.errors import StorageError
from ...core.spools import DiskFull, disk_full
from .base import HashingReader, LimitedReader, PendingUpload, Storage, StoredObject, check_key, iter_chunks

log = logging.getLogger(__name__)

# Partly written files carry this prefix until they are renamed into place.
TEMP_PREFIX = ".upload-"


def delivery_headers(etag: str, last_modified: datetime, download_name: str) -> dict[str, str]:
    """The headers of a file that nginx sends: the service's own validators, and the name to save it as."""
    return {
        "ETag": quote_etag(etag),
        "Last-Modified": http_date(last_modified),
        "Content-Disposition": f'inline; filename="{download_name}"',
    }


class LocalStorage(Storage):
    name = "local"

    def __init__(self, root: Path, *, file_mode: int = 0o640, accel_prefix: str = "") -> None:
        """`file_mode` lets the web server's group read the files; with `accel_prefix`, `send` hands each
        file to nginx (X-Accel-Redirect to PREFIX/KEY) instead of sending its bytes from Python."""
        self.root = Path(root)
        self.file_mode = file_mode
        self.accel_prefix = accel_prefix.rstrip("/")

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _write_failed(self, key: str, e: OSError) -> StorageError:
        """The cause for the client (a full disk, say), the folder only for the log."""
        log.error("cannot write %s in %s: %s", key, self.root, e.strerror)
        return DiskFull() if disk_full(e) else StorageError(f"the media store cannot save the file: {e.strerror}")

    def put(self, key: str, stream: BinaryIO, *, content_type: str, download_name: str | None = None) -> StoredObject:
        """Write beside the target and rename, so a reader never sees half a file.

        Disk failures become StorageError; a failing source stream (an upload
        cut short) propagates unchanged, since it is not the store's fault.
        """
        path = self._path(key)
        reader = HashingReader(stream)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = tempfile.NamedTemporaryFile(dir=path.parent, prefix=TEMP_PREFIX, delete=False)  # noqa: SIM115
        except OSError as e:
            raise self._write_failed(key, e) from e
        try:
            with tmp:
                for chunk in iter_chunks(reader):
                    self._write(tmp, chunk, key)
            try:
                os.chmod(tmp.name, self.file_mode)
                os.replace(tmp.name, path)
            except OSError as e:
                raise self._write_failed(key, e) from e
        except BaseException:
            Path(tmp.name).unlink(missing_ok=True)
            raise
        return StoredObject(key, reader.size, reader.sha256)

    def _write(self, fh: IO[bytes], chunk: bytes, key: str) -> None:
        try:
            fh.write(chunk)
        except OSError as e:
            raise self._write_failed(key, e) from e

    def open(self, key: str, start: int = 0, end: int | None = None) -> BinaryIO:
        try:
            fh = self._path(key).open("rb")
        except OSError as e:
            raise StorageError(f"cannot open {key}: {e.strerror}") from e
        fh.seek(start)
        return fh if end is None else cast(BinaryIO, LimitedReader(fh, end - start + 1))  # reads and closes as one

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except OSError as e:
            raise StorageError(f"cannot stat {key}: {e.strerror}") from e

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as e:
            raise StorageError(f"cannot delete {key}: {e.strerror}") from e

    def objects(self) -> Iterator[tuple[str, datetime]]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root)
            # Dot-names are the service's own (partial writes, nginx's links), never keys.
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                yield relative.as_posix(), datetime.fromtimestamp(path.stat().st_mtime, UTC)

    def pending_uploads(self) -> list[PendingUpload]:
        if not self.root.is_dir():
            return []
        return [
            PendingUpload(
                path.relative_to(self.root).as_posix(), path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC)
            )
            for path in sorted(self.root.rglob(TEMP_PREFIX + "*"))
        ]

    def abort_upload(self, upload: PendingUpload) -> None:
        path = self.root / upload.key
        if (
            not upload.upload_id.startswith(TEMP_PREFIX)
            or path.name != upload.upload_id
            or self.root.resolve() not in path.resolve().parents
        ):
            raise StorageError(f"{upload.key} is not an upload in progress in {self.root}")
        try:
            path.unlink(missing_ok=True)
        except OSError as e:
            raise StorageError(f"cannot delete {upload.key}: {e.strerror}") from e

    def check(self) -> None:
        if not self.root.is_dir() and not self.root.parent.is_dir():
            raise StorageError(f"media folder {self.root} does not exist")
        target = self.root if self.root.is_dir() else self.root.parent
        if not os.access(target, os.W_OK):
            raise StorageError(f"media folder {target} is not writable")

    def send(
        self, key: str, *, mimetype: str, etag: str, last_modified: datetime, download_name: str, public: bool
    ) -> BaseResponse:
        if self.accel_prefix:
            return self._accel(
                key, mimetype=mimetype, etag=etag, last_modified=last_modified, download_name=download_name
            )
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"{key} is missing from the media folder")
        # Werkzeug answers Range, If-Range, If-None-Match, If-Modified-Since and HEAD for us.
        return send_file(
            path,
            mimetype=mimetype,
            conditional=True,
            etag=etag,
            last_modified=last_modified,
            download_name=download_name,
            as_attachment=False,
            max_age=None,  # the caller sets Cache-Control
        )

    def web_server_path(self, key: str) -> Path | None:
        return self._path(key) if self.accel_prefix else None

    def _accel(self, key: str, *, mimetype: str, etag: str, last_modified: datetime, download_name: str) -> Response:
        """Headers only: nginx sends the file from its internal location (ranges, HEAD, sendfile).

        A conditional request matching the file's ETag is answered 304 here, without nginx. Most
        requests carry no condition, and then none is parsed: this is the busiest answer there is.
        """
        headers = delivery_headers(etag, last_modified, download_name)
        environ = request.environ
        if ("HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ) and (
            request.if_none_match.contains(etag)
            or (
                not request.if_none_match
                and request.if_modified_since
                and last_modified.replace(microsecond=0) <= request.if_modified_since
            )
        ):
            return Response(status=304, headers=headers, mimetype=mimetype)
        headers["X-Accel-Redirect"] = f"{self.accel_prefix}/{check_key(key)}"
        return Response(headers=headers, mimetype=mimetype)
