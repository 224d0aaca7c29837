"""Regenerate the audio fixtures under tests/fixtures/audio/.

Every fixture is encoded from one source of a known length, so the tests can
hold each probe to the true duration. The source starts with a second of
silence and then turns to loud noise: a VBR encoder spends very few bits on the
first frames, which is exactly what makes mutagen's bitrate-based estimate of
an MP3 without a Xing header go wrong, and what the frame scan must fix.

The true duration recorded for each file is the length ffmpeg decodes from
it: for an MP3 without gapless information that includes the encoder's
delay and padding, which is what a listener's player plays.

The fixtures are committed; the tests need none of these tools.
Run it only to change them:  python tools/make_test_audio.py
Needs Debian's lame, ffmpeg, oggenc (vorbis-tools), opusenc (opus-tools) and flac.
"""

from __future__ import annotations

import io
import json
import math
import random
import struct
import subprocess
import sys
import wave
from pathlib import Path

from mutagen.id3 import APIC, CHAP, COMM, CTOC, ID3, TIT2, TPE1, CTOCFlags
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio"
RATE = 44100
SECONDS = 6.0


def write_source(path: Path, rate: int) -> int:
    """Write the mono 16-bit source; return its number of samples."""
    rng = random.Random(42)
    total = int(SECONDS * rate)
    frames = bytearray()
    for n in range(total):
        if n < rate:
            value = 0
        else:
            value = int(9000 * math.sin(2 * math.pi * 440 * n / rate) + rng.uniform(-14000, 14000))
        frames += struct.pack("<h", value)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return total


def decoded_seconds(path: Path, rate: int) -> float:
    """What a player plays: ffmpeg's decoded sample count (it honours gapless info where a file has it)."""
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"], check=True, capture_output=True
    ).stdout
    return len(pcm) / 2 / rate


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def small_png() -> bytes:
    """A tiny cover, enough to prove that art is extracted byte for byte."""
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def tag_with_chapters(path: Path) -> None:
    """ID3v2.4 with title, artist, comment, cover and two chapters, plus an ID3v1 tag at the end."""
    tags = ID3()
    tags.add(TIT2(encoding=3, text="Fixture <b>title</b>"))
    tags.add(TPE1(encoding=3, text="Fixture Artist"))
    tags.add(COMM(encoding=3, lang="eng", desc="", text="A comment from the file."))
    tags.add(APIC(encoding=3, mime="image/png", type=3, desc="", data=small_png()))
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=["c1", "c2"],
            sub_frames=[],
        )
    )
    tags.add(CHAP(element_id="c1", start_time=0, end_time=2500, sub_frames=[TIT2(encoding=3, text="Silence")]))
    tags.add(CHAP(element_id="c2", start_time=2500, end_time=6000, sub_frames=[TIT2(encoding=3, text="Noise")]))
    tags.save(str(path), v2_version=4, v1=2)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    src = OUT / "source.wav"
    samples = write_source(src, RATE)
    src22 = OUT / "source22k.wav"
    write_source(src22, 22050)
    truth = samples / RATE
    manifest = {}

    def add(name: str, mime: str, fmt: str, rate: int = RATE) -> None:
        manifest[name] = {
            "duration": decoded_seconds(OUT / name, rate),
            "source_duration": truth,
            "mime": mime,
            "format": fmt,
            "sample_rate": rate,
            "channels": 1,
        }

    run("lame", "--quiet", "-b", "64", str(src), str(OUT / "cbr.mp3"))
    add("cbr.mp3", "audio/mpeg", "mp3")
    run("lame", "--quiet", "-V", "4", str(src), str(OUT / "vbr_xing.mp3"))
    add("vbr_xing.mp3", "audio/mpeg", "mp3")
    run("lame", "--quiet", "-V", "4", "-t", str(src), str(OUT / "vbr_noxing.mp3"))
    add("vbr_noxing.mp3", "audio/mpeg", "mp3")
    run("lame", "--quiet", "-V", "4", "-t", str(src), str(OUT / "vbr_noxing_tagged.mp3"))
    tag_with_chapters(OUT / "vbr_noxing_tagged.mp3")
    add("vbr_noxing_tagged.mp3", "audio/mpeg", "mp3")
    run("lame", "--quiet", "-V", "6", "-t", str(src22), str(OUT / "vbr_noxing_mpeg2.mp3"))
    add("vbr_noxing_mpeg2.mp3", "audio/mpeg", "mp3", 22050)
    run("ffmpeg", "-y", "-i", str(src), "-c:a", "aac", "-b:a", "64k", str(OUT / "aac.m4a"))
    add("aac.m4a", "audio/x-m4a", "m4a")
    run("oggenc", "-Q", "-q", "2", "-o", str(OUT / "vorbis.ogg"), str(src))
    add("vorbis.ogg", "audio/ogg", "ogg")
    run("opusenc", "--quiet", "--bitrate", "32", str(src), str(OUT / "opus.opus"))
    add("opus.opus", "audio/opus", "opus", 48000)
    run("flac", "--silent", "-f", "-o", str(OUT / "flac.flac"), str(src))
    add("flac.flac", "audio/flac", "flac")
    (OUT / "wav.wav").write_bytes(src.read_bytes())
    add("wav.wav", "audio/wav", "wav")
    src.unlink()
    src22.unlink()
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {len(manifest)} fixtures of {truth} s to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
