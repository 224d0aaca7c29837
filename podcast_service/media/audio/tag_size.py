"""How many bytes of an audio file are metadata, read from container headers before any tag is parsed.

mutagen loads a file's tags, cover art included, into memory whole: a
200 MB picture in an ID3 tag took a worker to 900 MB. Reading the sizes the
containers declare (ID3v2 header, FLAC metadata blocks, the MP4 `moov`
atom, RIFF chunks) costs a few small reads, so media.probe refuses an
oversized tag before mutagen sees it.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

# Cover art at Apple's 3000 x 3000 is a few MB; chapters and text add little.
MAX_TAG_BYTES = 16 * 1024 * 1024


def _id3(fh: BinaryIO) -> int:
    head = fh.read(10)
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    return 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])


def _flac(fh: BinaryIO) -> int:
    total, last = 0, False
    fh.seek(4)
    while not last:
        header = fh.read(4)
        if len(header) < 4:
            break
        last = bool(header[0] & 0x80)
        length = int.from_bytes(header[1:4], "big")
        total += 4 + length
        fh.seek(length, 1)
    return total


def _mp4(fh: BinaryIO, file_size: int) -> int:
    """The size of the top-level `moov` atom, where MP4 keeps its tags and cover."""
    offset = 0
    while offset + 8 <= file_size:
        fh.seek(offset)
        size, kind = struct.unpack(">I4s", fh.read(8))
        if size == 1:
            size = struct.unpack(">Q", fh.read(8))[0]
        elif size == 0:
            size = file_size - offset
        if kind == b"moov":
            return min(size, file_size - offset)
        if size < 8:
            break
        offset += size
    return 0


def _riff(fh: BinaryIO, file_size: int) -> int:
    """Every RIFF chunk but the audio itself (an ID3 chunk, LIST, ...)."""
    total, offset = 0, 12
    while offset + 8 <= file_size:
        fh.seek(offset)
        kind, size = struct.unpack("<4sI", fh.read(8))
        if kind != b"data":
            total += min(size, file_size - offset - 8)  # a damaged size counts only what is there
        offset += 8 + size + (size & 1)
    return total


def metadata_bytes(fh: BinaryIO, file_size: int) -> int:
    """The bytes of metadata the file's container declares (0 for formats not read here, such as Ogg)."""
    fh.seek(0)
    head = fh.read(12)
    fh.seek(0)
    if head[:3] == b"ID3":
        return _id3(fh)
    if head[:4] == b"fLaC":
        return _flac(fh)
    if head[4:8] == b"ftyp":
        return _mp4(fh, file_size)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return _riff(fh, file_size)
    return 0
