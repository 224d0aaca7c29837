"""Receiving uploaded files: streamed to disk, counted as they arrive, never held in memory.

Werkzeug's default keeps small uploads in memory and large ones in the
system's temporary folder, which is often a RAM disk. Here every uploaded
file goes to a named file in `upload_temp_path`, in the chunks the multipart
parser yields, and the request fails with 413 the moment a file passes
`max_upload_mb`: a producer sending too much learns it without waiting for the
rest to arrive, and the disk never holds more than the limit. The spools are
deleted when the request ends, whatever happened.

Only routes marked with `@accepts_uploads` take a large body, only as
multipart/form-data, and only once the blueprint has checked who is asking:
every other request (the sign-in form, JSON, also JSON sent to an upload
route, an anonymous POST anywhere) is refused with 413 past SMALL_BODY_BYTES,
before its body is read when it declares its length. A file on its way to a
marked view is refused with 503 before its body is read when the media store
does not answer: the producer learns it at once, not after the upload has
been received and probed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Literal, TypeVar, cast, overload

from flask import Request, current_app, request
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import ValidationError
from .settings import current_settings
from .spools import DiskFull, disk_full, open_spool

# Room for the form fields and small files (cover art, transcript) beside the audio.
FORM_ALLOWANCE = 64 * 1024 * 1024
# Any other request: a form or a JSON object with show notes of 100,000 characters fits easily.
SMALL_BODY_BYTES = 1024 * 1024

View = TypeVar("View", bound=Callable[..., Any])


def accepts_uploads(view: View) -> View:
    """Mark a view that receives files; its blueprint lets it take a large body once the caller is known."""
    view.accepts_uploads = True  # type: ignore[attr-defined]
    return view


def allow_uploads_for_this_view(store_ready: Callable[[], None]) -> None:
    """Called by a blueprint after its authentication check: lift the body limit for marked views.

    `store_ready` raises StorageError when the media store cannot take a file
    now; it is asked only when a body larger than a form is on its way.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "accepts_uploads", False):
        cast(UploadRequest, request).uploads_allowed = True
        if (request.content_length or 0) > SMALL_BODY_BYTES or request.headers.get("Transfer-Encoding"):
            store_ready()


class Spool:
    """A named temporary file (spools.py) that refuses to grow past `limit` bytes."""

    def __init__(self, folder: Path, limit: int) -> None:
        try:
            self._file = open_spool(folder, "upload-")
        except OSError as e:
            raise (DiskFull() if disk_full(e) else e) from None
        self.limit = limit
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        if self.written > self.limit:
            raise RequestEntityTooLarge(
                _("The file is larger than the limit of %(most)s MB for uploads.", most=self.limit // (1024 * 1024))
            )
        try:
            return self._file.write(data)
        except OSError as e:
            raise (DiskFull() if disk_full(e) else e) from None

    @property
    def path(self) -> Path:
        self._file.flush()
        return Path(self._file.name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class UploadRequest(Request):
    """Flask's request, with uploads spooled by `Spool`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._spools: list[Spool] = []
        self.uploads_allowed = False

    @property  # type: ignore[misc]  # read-only here: the limit follows `uploads_allowed`
    def max_content_length(self) -> int:  # type: ignore[override]
        if not self.uploads_allowed or self.mimetype != "multipart/form-data":
            return SMALL_BODY_BYTES
        return current_settings().max_upload_bytes + FORM_ALLOWANCE

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        settings = current_settings()
        spool = Spool(settings.upload_temp_path, settings.max_upload_bytes)
        self._spools.append(spool)
        return spool  # type: ignore[return-value]

    def close(self) -> None:
        super().close()
        for spool in self._spools:
            spool.close()


@overload
def uploaded(file: FileStorage | None, what: str, *, required: Literal[True]) -> tuple[Path, str]: ...


@overload
def uploaded(file: FileStorage | None, what: str, *, required: bool = False) -> tuple[Path, str] | None: ...


def uploaded(file: FileStorage | None, what: str, *, required: bool = False) -> tuple[Path, str] | None:
    """The spooled file of a form field and the name the producer's file had; None if not sent."""
    if file is None or (not file.filename and not getattr(file.stream, "written", 0)):
        if required:
            raise ValidationError(_("%(what)s is missing: send it as a file in the form field", what=what))
        return None
    stream = file.stream
    if not isinstance(stream, Spool):
        raise ValidationError(_("%(what)s must be sent as a file upload", what=what))
    if stream.written == 0:
        raise ValidationError(_("%(what)s is empty", what=what))
    return stream.path, safe_name(file.filename)


def safe_name(filename: str | None) -> str:
    """The producer's file name reduced to something printable, for records and titles only.

    It never reaches a storage key or a path on disk.
    """
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "upload"
