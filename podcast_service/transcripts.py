"""Transcripts: WebVTT or SRT, validated on arrival and parsed into cues for pages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ValidationError

_TIME = r"(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})"
_CUE_TIMING = re.compile(rf"^{_TIME}\s+-->\s+{_TIME}")

FORMATS = {"vtt": "text/vtt", "srt": "application/x-subrip"}


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def detect_format(text: str) -> str:
    return "vtt" if text.lstrip("\ufeff").startswith("WEBVTT") else "srt"


def parse(text: str) -> list[Cue]:
    """Cues of a WebVTT or SRT document; ValidationError when it is neither."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    fmt = detect_format(text)
    blocks = [b.strip("\n") for b in re.split(r"\n{2,}", text) if b.strip()]
    if fmt == "vtt":
        header = blocks.pop(0)
        if not re.match(r"^WEBVTT(?:[ \t].*)?$", header.split("\n")[0]):
            raise ValidationError("transcript: the WebVTT header line is malformed")
    cues = []
    for block in blocks:
        lines = block.split("\n")
        if fmt == "vtt" and lines[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing_at = next((i for i, line in enumerate(lines[:2]) if "-->" in line), None)
        if timing_at is None:
            raise ValidationError(f"transcript: no cue timing in block {block[:40]!r}")
        match = _CUE_TIMING.match(lines[timing_at].strip())
        if not match:
            raise ValidationError(f"transcript: bad cue timing {lines[timing_at]!r}")
        g = match.groups()
        start, end = _seconds(*g[:4]), _seconds(*g[4:])
        if end < start:
            raise ValidationError(f"transcript: cue ends before it starts: {lines[timing_at]!r}")
        cue_text = "\n".join(lines[timing_at + 1:]).strip()
        cues.append(Cue(start, end, cue_text))
    if not cues:
        raise ValidationError("transcript: not a WebVTT or SRT document (no cues found)")
    return cues
