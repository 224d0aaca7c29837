"""Audio probing: what a file is, how long it plays, and what its tags say.

The only module that imports mutagen. A file is probed once, when it arrives;
its facts are stored on the MediaFile row so pages and feeds never reopen it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mutagen
from flask_babel import gettext as _
from mutagen.aiff import AIFF
from mutagen.flac import FLAC
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from ...core.errors import MediaError, TooLarge
from . import mpeg
from .tag_size import MAX_TAG_BYTES, metadata_bytes


@dataclass(frozen=True)
class Cover:
    data: bytes
    mime_type: str

    @property
    def extension(self) -> str:
        return ".png" if self.mime_type == "image/png" else ".jpg"


@dataclass(frozen=True)
class ChapterInfo:
    start: float
    end: float | None
    title: str
    url: str | None = None


@dataclass(frozen=True)
class AudioInfo:
    format: str  # short name, also the file extension without the dot
    mime_type: str
    duration: float
    bitrate: int  # bits per second, averaged over the file
    sample_rate: int
    channels: int
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    comment: str | None = None
    cover: Cover | None = None
    chapters: list[ChapterInfo] = field(default_factory=list)

    @property
    def extension(self) -> str:
        return "." + self.format


# mutagen class -> (format, MIME type). Only these are accepted.
FORMATS: dict[type, tuple[str, str]] = {
    MP3: ("mp3", "audio/mpeg"),
    MP4: ("m4a", "audio/x-m4a"),
    OggVorbis: ("ogg", "audio/ogg"),
    OggOpus: ("opus", "audio/opus"),
    FLAC: ("flac", "audio/flac"),
    WAVE: ("wav", "audio/wav"),
    AIFF: ("aiff", "audio/aiff"),
}
SUPPORTED = ", ".join(fmt.upper() for fmt, _ in FORMATS.values())
# What Apple Podcasts plays as an episode's enclosure; other formats reach apps as alternateEnclosure.
APPLE_PLAYABLE = frozenset({".mp3", ".m4a"})


def probe(path: Path | str, *, max_seconds: float | None = None) -> AudioInfo:
    """Identify and measure an audio file; raise MediaError for anything else, or for audio longer than
    `max_seconds` (read from the file's header or frames: nothing is decoded)."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(_("the file cannot be read: %(name)s does not exist", name=path.name))
    with path.open("rb") as fh:
        tag_bytes = metadata_bytes(fh, path.stat().st_size)
    if tag_bytes > MAX_TAG_BYTES:
        raise TooLarge(
            _(
                "the file's tags (cover art, chapters, text) take %(size).0f MB; at most %(most)s MB are "
                "accepted: make the embedded cover smaller",
                size=tag_bytes / 1048576,
                most=MAX_TAG_BYTES // 1048576,
            )
        )
    try:
        audio = mutagen.File(path, options=list(FORMATS))
    except mutagen.MutagenError as e:
        raise MediaError(_("the file is damaged or not audio (%(error)s)", error=e)) from None
    if audio is None or audio.info is None:
        raise MediaError(_("the file is not a supported audio file (supported: %(formats)s)", formats=SUPPORTED))
    fmt, mime = FORMATS[type(audio)]
    info = audio.info
    duration = float(info.length or 0.0)
    bitrate = int(getattr(info, "bitrate", 0) or 0)
    if isinstance(audio, MP3):
        duration, bitrate = _mp3_duration(path, duration, bitrate)
    if duration <= 0:
        raise MediaError(_("the file holds no audio (its duration is zero)"))
    if max_seconds is not None and duration > max_seconds:
        raise MediaError(
            _(
                "the audio lasts %(hours).1f hours; at most %(most)s hours are accepted",
                hours=duration / 3600,
                most=f"{max_seconds / 3600:g}",
            )
        )
    if not bitrate:
        bitrate = round(path.stat().st_size * 8 / duration)
    tags = _read_tags(audio)
    return AudioInfo(
        format=fmt,
        mime_type=mime,
        duration=duration,
        bitrate=bitrate,
        # Opus always decodes at 48 kHz; mutagen reports no rate for it.
        sample_rate=48000 if isinstance(audio, OggOpus) else int(getattr(info, "sample_rate", 0) or 0),
        channels=int(getattr(info, "channels", 0) or 0),
        **tags,
    )


def _mp3_duration(path: Path, mutagen_length: float, mutagen_bitrate: int) -> tuple[float, int]:
    """Trust a Xing/Info/VBRI header; else count frames. Either way, less the encoder's delay and padding.

    The scan runs in every case, because it is also what tells a real MP3 from
    bytes in which mutagen happened to find a frame sync. Its count less the
    LAME tag's trim is exact; mutagen applies the trim only for LAME's own
    tag, not for the same tag as FFmpeg writes it.
    """
    with path.open("rb") as fh:
        scan = mpeg.scan(fh)
    if scan.has_info_header and mutagen_length > 0 and not scan.trim:
        return mutagen_length, mutagen_bitrate
    return scan.duration, round(scan.audio_bytes * 8 / scan.duration)


def _first_text(values: object) -> str | None:
    if not values:
        return None
    if isinstance(values, (list, tuple)):
        values = values[0] if values else None
    text = str(values).strip() if values is not None else ""
    return text or None


def _read_tags(audio: mutagen.FileType) -> dict:
    if isinstance(audio.tags, ID3):
        return _id3_tags(audio.tags, audio.info.length)
    if isinstance(audio, MP4):
        return _mp4_tags(audio)
    tags: Any = audio.tags or {}
    covers = getattr(audio, "pictures", None) or []
    return {
        "title": _first_text(tags.get("title")),
        "artist": _first_text(tags.get("artist")),
        "album": _first_text(tags.get("album")),
        "comment": _first_text(tags.get("comment") or tags.get("description")),
        "cover": Cover(covers[0].data, covers[0].mime) if covers else None,
    }


def _id3_tags(tags: ID3, length: float) -> dict:
    comments = tags.getall("COMM")
    pictures = tags.getall("APIC")
    front = [p for p in pictures if p.type == 3] or pictures
    return {
        "title": _first_text(tags.get("TIT2") and tags["TIT2"].text),
        "artist": _first_text(tags.get("TPE1") and tags["TPE1"].text),
        "album": _first_text(tags.get("TALB") and tags["TALB"].text),
        "comment": _first_text(comments[0].text) if comments else None,
        "cover": Cover(front[0].data, front[0].mime or "image/jpeg") if front else None,
        "chapters": _id3_chapters(tags),
    }


def _id3_chapters(tags: ID3) -> list[ChapterInfo]:
    """CHAP frames in the order the top-level CTOC gives, else by start time."""
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    order = []
    for toc in tags.getall("CTOC"):
        if toc.flags & 0x01:  # top level
            order = [chaps[i] for i in toc.child_element_ids if i in chaps]
            break
    if not order:
        order = sorted(chaps.values(), key=lambda c: c.start_time)
    chapters = []
    for c in order:
        title = _first_text(c.sub_frames.get("TIT2") and c.sub_frames["TIT2"].text) or c.element_id
        wxxx = c.sub_frames.getall("WXXX")
        end = c.end_time / 1000 if c.end_time and c.end_time != 0xFFFFFFFF else None
        chapters.append(ChapterInfo(c.start_time / 1000, end, title, wxxx[0].url if wxxx else None))
    return chapters


def _mp4_tags(audio: MP4) -> dict:
    tags: Any = audio.tags or {}
    covers = tags.get("covr") or []
    cover = None
    if covers:
        mime = "image/png" if covers[0].imageformat == MP4Cover.FORMAT_PNG else "image/jpeg"
        cover = Cover(bytes(covers[0]), mime)
    return {
        "title": _first_text(tags.get("\xa9nam")),
        "artist": _first_text(tags.get("\xa9ART")),
        "album": _first_text(tags.get("\xa9alb")),
        "comment": _first_text(tags.get("\xa9cmt") or tags.get("desc")),
        "cover": cover,
    }
