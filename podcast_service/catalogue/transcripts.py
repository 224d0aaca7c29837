"""Transcripts: WebVTT or SRT, validated on arrival, parsed into cues, served in every format apps read.

The uploaded file is kept as it came; the cues parsed from it are the
source of the other formats (podcast:transcript lists them all), so a
producer uploads one file and listeners' apps pick what they support.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _

from ..core.errors import ValidationError
from ..core.xmltext import clean

_TIME = r"(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})"
_CUE_TIMING = re.compile(rf"^{_TIME}\s+-->\s+{_TIME}")

FORMATS = {"vtt": "text/vtt", "srt": "application/x-subrip"}
# A transcript of a four-hour episode is about 300 KB; past this, each page view would carry megabytes.
MAX_BYTES = 2 * 1024 * 1024
# Every format served, with its media type, in the order a feed lists them.
SERVED = {**FORMATS, "json": "application/json", "html": "text/html"}
_VOICE = re.compile(r"^<v(?:\.[^ >]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[a-z][^>]*>", re.I)


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
    if len(text) > MAX_BYTES:
        raise ValidationError(_("the transcript is larger than %(most)s MB", most=MAX_BYTES // 1048576))
    text = clean(text).lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    fmt = detect_format(text)
    blocks = [b.strip("\n") for b in re.split(r"\n{2,}", text) if b.strip()]
    if fmt == "vtt":
        header = blocks.pop(0)
        if not re.match(r"^WEBVTT(?:[ \t].*)?$", header.split("\n")[0]):
            raise ValidationError(_("transcript: the WebVTT header line is malformed"))
    cues = []
    for block in blocks:
        lines = block.split("\n")
        if fmt == "vtt" and lines[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing_at = next((i for i, line in enumerate(lines[:2]) if "-->" in line), None)
        if timing_at is None:
            raise ValidationError(_("transcript: no cue timing in block %(block)s", block=repr(block[:40])))
        match = _CUE_TIMING.match(lines[timing_at].strip())
        if not match:
            raise ValidationError(_("transcript: bad cue timing %(line)s", line=repr(lines[timing_at])))
        g = match.groups()
        start, end = _seconds(*g[:4]), _seconds(*g[4:])
        if end < start:
            raise ValidationError(_("transcript: cue ends before it starts: %(line)s", line=repr(lines[timing_at])))
        cue_text = "\n".join(lines[timing_at + 1 :]).strip()
        cues.append(Cue(start, end, cue_text))
    if not cues:
        raise ValidationError(_("transcript: not a WebVTT or SRT document (no cues found)"))
    return cues


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def speaker_and_text(cue_text: str) -> tuple[str | None, str]:
    """A cue's speaker (from a WebVTT voice tag) and its words without markup."""
    match = _VOICE.match(cue_text)
    speaker = match.group(1).strip() if match else None
    return speaker, html.unescape(_TAG.sub("", cue_text)).strip()


def render(cues: Sequence[Cue], fmt: str) -> str:
    """The transcript in one of SERVED's formats."""
    if fmt == "vtt":
        blocks = [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{c.text}" for c in cues]
        return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"
    if fmt == "srt":
        blocks = [
            f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{speaker_and_text(c.text)[1]}"
            for i, c in enumerate(cues, 1)
        ]
        return "\n\n".join(blocks) + "\n"
    if fmt == "json":
        segments = []
        for c in cues:
            speaker, text = speaker_and_text(c.text)
            segment = {"startTime": round(c.start, 3), "endTime": round(c.end, 3), "body": text}
            if speaker:
                segment["speaker"] = speaker
            segments.append(segment)
        return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=1)
    if fmt == "html":
        parts = []
        for c in cues:
            speaker, text = speaker_and_text(c.text)
            who = f"<cite>{html.escape(speaker)}:</cite>\n" if speaker else ""
            parts.append(f"{who}<time>{_stamp(c.start, '.')[:8]}</time>\n<p>{html.escape(text)}</p>")
        return (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Transcript</title></head><body>\n'
            + "\n".join(parts)
            + "\n</body></html>\n"
        )
    raise ValueError(f"unknown transcript format {fmt!r}")
