"""Exact MPEG audio length by walking frame headers, without decoding.

An MP3 without a Xing/Info or VBRI header does not say how many frames it
holds, and a VBR one cannot be measured from its size and first bitrate: both
mutagen and ffprobe then guess, and can be off by half. Counting the frames
is exact and costs one pass over the bytes, reading only 4-byte headers.

The walk also validates: the frames must follow each other with no more than
a little junk between them, and the last one must be complete. Junk costs
little to skip (the walk jumps to the next 0xFF byte), and the walk gives up
as soon as the junk seen passes what a damaged-but-playable file holds, so a
crafted file of junk is refused after a fixed amount of work, whatever its
size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import gettext as _

from ...core.errors import MediaError

CHUNK = 1 << 20
# Junk tolerated between frames, as a share of the audio bytes, before the file counts as damaged.
MAX_JUNK_RATIO = 0.05
# Junk always tolerated, whatever has been read so far: stray bytes after a tag, a short gap.
JUNK_ALLOWANCE = 256 * 1024

_BITRATES = {  # kbps by (MPEG-1?, layer), index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_BITRATES[(False, 3)] = _BITRATES[(False, 2)]
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class FrameHeader:
    version: int  # 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5 (the raw bits)
    layer: int
    sample_rate: int
    mono: bool
    length: int
    samples: int

    def same_stream(self, other: FrameHeader) -> bool:
        return (self.version, self.layer, self.sample_rate) == (other.version, other.layer, other.sample_rate)


def parse_header(b: bytes) -> FrameHeader | None:
    """Decode a 4-byte frame header, or None when the bytes are not one."""
    if len(b) < 4 or b[0] != 0xFF or (b[1] & 0xE0) != 0xE0:
        return None
    version = (b[1] >> 3) & 3
    layer = 4 - ((b[1] >> 1) & 3)
    bitrate_index = b[2] >> 4
    rate_index = (b[2] >> 2) & 3
    if version == 1 or layer == 4 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values, or free format, which no podcast encoder writes
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index - 1] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    padding = (b[2] >> 1) & 1
    if layer == 1:
        samples = 384
        length = (12 * bitrate // sample_rate + padding) * 4
    else:
        samples = 1152 if (layer == 2 or mpeg1) else 576
        length = samples // 8 * bitrate // sample_rate + padding
    return FrameHeader(version, layer, sample_rate, (b[3] >> 6) == 3, length, samples)


@dataclass(frozen=True)
class FrameScan:
    frames: int
    samples: int
    sample_rate: int
    audio_bytes: int
    has_info_header: bool  # the first frame is a Xing/Info/VBRI frame, not audio
    # Encoder delay plus end padding (samples), from the LAME tag that LAME and FFmpeg write into the
    # Info frame: decoders that play gaplessly drop them, so the episode lasts that much less.
    trim: int = 0

    @property
    def duration(self) -> float:
        return max(0, self.samples - self.trim) / self.sample_rate


def _id3v2_size(head: bytes) -> int:
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    return 10 + size + (10 if head[5] & 0x10 else 0)


def _audio_bounds(fh: BinaryIO) -> tuple[int, int]:
    """Byte range of the audio: after ID3v2 tag(s), before APEv2 and ID3v1 tags."""
    fh.seek(0, 2)
    end = fh.tell()
    start = 0
    while True:
        fh.seek(start)
        size = _id3v2_size(fh.read(10))
        if not size:
            break
        start += size
    if end - start >= 128:
        fh.seek(end - 128)
        if fh.read(3) == b"TAG":
            end -= 128
    if end - start >= 32:
        fh.seek(end - 32)
        footer = fh.read(32)
        if footer[:8] == b"APETAGEX":
            size, flags = struct.unpack("<I4xI", footer[12:24])
            end -= size + (32 if flags & 0x80000000 else 0)
    return start, max(start, end)


def _side_info(header: FrameHeader) -> int:
    return (17 if header.mono else 32) if header.version == 3 else (9 if header.mono else 17)


def _is_info_frame(frame_start: bytes, header: FrameHeader) -> bool:
    tag = frame_start[4 + _side_info(header) : 8 + _side_info(header)]
    return tag in (b"Xing", b"Info") or frame_start[36:40] == b"VBRI"


GAPLESS_ENCODERS = (b"LAME", b"L3.99", b"Lavf", b"Lavc")


def _gapless_trim(frame: bytes, header: FrameHeader) -> int:
    """Delay + padding from a Xing/Info frame's LAME tag (LAME's VbrTag.c layout; FFmpeg writes the same)."""
    at = 4 + _side_info(header)
    if frame[at : at + 4] not in (b"Xing", b"Info") or len(frame) < at + 8:
        return 0
    flags = int.from_bytes(frame[at + 4 : at + 8], "big")
    at += 8 + (4 if flags & 1 else 0) + (4 if flags & 2 else 0) + (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
    if not frame[at : at + 9].startswith(GAPLESS_ENCODERS) or len(frame) < at + 24:
        return 0
    packed = int.from_bytes(frame[at + 21 : at + 24], "big")
    return (packed >> 12) + (packed & 0xFFF)


def scan(fh: BinaryIO) -> FrameScan:
    """Count every frame of an MPEG audio stream; raise MediaError when it is not one."""
    start, end = _audio_bounds(fh)
    fh.seek(start)
    buf = b""
    buf_pos = start  # file offset of buf[0]
    pos = start
    first: FrameHeader | None = None
    frames = samples = junk = 0
    has_info = False
    trim = 0

    def window(offset: int, size: int) -> bytes:
        nonlocal buf, buf_pos
        if offset < buf_pos or offset + size > buf_pos + len(buf):
            fh.seek(offset)
            buf = fh.read(max(CHUNK, size))
            buf_pos = offset
        return buf[offset - buf_pos : offset - buf_pos + size]

    def next_sync(offset: int) -> int:
        """The offset of the next 0xFF byte after `offset` (where a frame could start), or `end`."""
        window(offset, 1)
        found = buf.find(b"\xff", offset + 1 - buf_pos)
        return min(end, buf_pos + len(buf) if found < 0 else buf_pos + found)

    audio_bytes = end - start

    while pos + 4 <= end:
        header = parse_header(window(pos, 4))
        if header is not None and first is not None and not header.same_stream(first):
            header = None
        if header is not None and first is None:
            # Lock on only where a second frame follows the first, or the file ends there.
            nxt = pos + header.length
            following = parse_header(window(nxt, 4)) if nxt + 4 <= end else None
            if nxt < end and (following is None or not following.same_stream(header)):
                header = None
        if header is None:
            skipped = next_sync(pos) - pos
            pos += skipped
            junk += skipped
            if junk > MAX_JUNK_RATIO * audio_bytes or junk > max(JUNK_ALLOWANCE, MAX_JUNK_RATIO * (pos - start)):
                raise MediaError(
                    _(
                        "the MP3 file is damaged: more than %(junk)s of its %(size)s bytes are not audio frames",
                        junk=junk,
                        size=audio_bytes,
                    )
                )
            continue
        if pos + header.length > end:
            raise MediaError(_("the MP3 file is truncated: its last frame is incomplete"))
        if first is None:
            first = header
            if _is_info_frame(window(pos, 64), header):
                has_info = True
                trim = _gapless_trim(window(pos, min(header.length, 256)), header)
                pos += header.length
                continue
        frames += 1
        samples += header.samples
        pos += header.length

    if first is None or frames == 0:
        raise MediaError(_("no MPEG audio frames found: the file is not an MP3 or is damaged"))
    return FrameScan(frames, samples, first.sample_rate, audio_bytes - junk, has_info, trim if trim < samples else 0)
