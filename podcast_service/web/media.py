"""Media delivery: the enclosure URLs podcast apps download and seek in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, request
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from ..accounts.subscribers import subscriber_or_error
from ..analytics import counting, recorder
from ..catalogue.service import storage_of
from ..core.errors import StorageError
from ..core.settings import current_settings
from ..delivery import media_links
from ..delivery.lookups import Found, ServedFile, counted_audio, forget_decision, public_media_or_404
from ..delivery.replay import REPLAYABLE
from . import bp

# Keys are immutable (a replaced file gets a new URL), so clients may keep a copy a long time.
KEEP = f"public, max-age={7 * 24 * 3600}, immutable"
# Answers that deliver the bytes: sent here, handed to nginx (X-Accel-Redirect), or redirected to the store.
DELIVERED = frozenset({200, 206, 302})


@bp.route("/media/<public_id>/<filename>", methods=["GET", "HEAD"])
def media(public_id: str, filename: str) -> BaseResponse:
    """The stored file, with byte ranges, conditional requests and HEAD.

    The name before the extension is cosmetic (the episode slug, for people
    who save the file); the extension must match, so each file has one URL
    ending in what it really is.
    """
    preview_key = request.args.get("preview")
    asked = request.headers.get(media_links.HEADER) == "1" and not preview_key
    if asked:  # nginx found no link: what it leaves rests on what the database says now, not what was kept
        forget_decision(public_id)

    def find() -> Found:
        try:
            return public_media_or_404(public_id, preview_key)
        except NotFound:
            # Withdrawn: nor may nginx send it while the service is down. (Only here: a wrong name for a
            # published file must not drop the links of the right one.)
            if asked:
                media_links.forget(current_settings().storage_path, public_id)
            raise

    # A preview is the producers' own listening: served, not counted.
    return _serve(public_id, filename, find, private=bool(preview_key), counted=not preview_key, link=asked)


@bp.route("/subscriptions/<token>/media/<public_id>/<filename>", methods=["GET", "HEAD"])
def subscriber_media(token: str, public_id: str, filename: str) -> BaseResponse:
    """A private show's file, for a subscriber whose token is valid (401 unknown, 403 revoked)."""
    show = subscriber_or_error(token).show
    return _serve(public_id, filename, lambda: public_media_or_404(public_id, show=show), private=True, counted=True)


def _serve(
    public_id: str, filename: str, find: Callable[[], Found], *, private: bool, counted: bool, link: bool = False
) -> BaseResponse:
    """`link`: nginx asked for a link to send the file from (media_links.py)."""
    try:
        return _send(find(), public_id, filename, private=private, counted=counted, link=link)
    except StorageError:
        # This process's memory of the file may predate its move to another store (storage-migrate in
        # another process): asked again of the database before the error is believed.
        if not forget_decision(public_id):
            raise
        return _send(find(), public_id, filename, private=private, counted=counted, link=link)


def _names(row: ServedFile, filename: str) -> bool:
    """Whether the URL's file name fits the file: any ASCII name, ending in the file's real extension."""
    return filename.endswith(row.extension) and filename.isascii()


def _send(found: Found, public_id: str, filename: str, *, private: bool, counted: bool, link: bool) -> BaseResponse:
    row = found.file
    if not _names(row, filename):
        abort(404)
    response = storage_of(row).send(
        row.key,
        mimetype=row.mime_type,
        etag=row.etag,
        last_modified=row.created_at,
        download_name=filename,
        public=not private,
    )
    recording: dict[str, Any] | None = None
    if counted and counted_audio(found):
        # An episode's audio (its enclosure or a rendition) on its way, from here, nginx or the store:
        # recorded for counting. A 304 or a 416 delivers nothing.
        recording = {
            "episode_id": found.episode_id,
            "media_id": row.id,
            "file_size": row.size,
            "threshold": counting.threshold(row.size, row.duration, row.bitrate),
            "private": private,
        }
        if response.status_code in DELIVERED:
            recorder.record(request, **recording)
    if link:
        _leave_link(row, public_id, recording)
    headers = response.headers
    if private:
        response.cache_control.no_store = True
        response.cache_control.public = False
    elif response.status_code not in (301, 302, 303, 307, 308):
        # A key is never reused (a replaced file gets a new URL), so a proxy, a CDN or an app may keep the
        # bytes as long as it likes; a redirect keeps the short life its backend gave it.
        headers["Cache-Control"] = KEEP
    headers["Access-Control-Allow-Origin"] = "*"
    headers["Access-Control-Expose-Headers"] = "Content-Length, Content-Range, Accept-Ranges"
    if not private and response.status_code == 200 and "X-Accel-Redirect" in headers:
        # Headers only, the same for everyone until the file changes: replay.py answers the next ones.
        request.environ[REPLAYABLE] = recording
    return response


def _leave_link(row: ServedFile, public_id: str, recording: dict | None) -> None:
    """nginx asked (it found no link for this file): leave one if nginx may send the file alone.

    That is audio of something published, in the local store behind nginx
    (`accel_redirect`), counted from nginx's log (`analytics_log_file`) or
    not at all. With `media_lookup_seconds` 0, every request comes here.
    """
    settings = current_settings()
    if (
        not row.mime_type.startswith("audio/")
        or not settings.media_lookup_seconds
        or (recording is not None and not settings.analytics_log_file)
    ):
        return
    kind = media_links.link_class(recording["threshold"] if recording is not None else None)
    stored = storage_of(row).web_server_path(row.key)
    if kind is not None and stored is not None:
        media_links.leave(settings.storage_path, stored, f"{public_id}{row.extension}", row.created_at, kind)
