"""Regenerate the demo episode's audio, cover art and transcript.

The demo show needs a real, listenable episode whose metadata exercises the
importer: ID3 title, artist, comment, cover art and three CHAP/CTOC chapters.
The narration is synthesised from the 2021 activity report's text with
espeak-ng, one sentence at a time, so that chapter starts and transcript cues
are exact sample positions instead of guesses.

The outputs are committed, so serving the demo needs none of these tools.
Run it only to change the demo:  python tools/make_demo_audio.py
Needs Debian's espeak-ng and lame, plus mutagen and Pillow (both project dependencies).
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

from mutagen.id3 import APIC, CHAP, COMM, CTOC, ID3, TALB, TDRC, TIT2, TPE1, CTOCFlags
from PIL import Image, ImageDraw, ImageFont

EPISODE_DIR = Path(__file__).resolve().parent.parent / "episodes" / "2021-shaping-belgiums-digital-future"
SHOW_DIR = EPISODE_DIR.parent
VOICE = "en-gb"
WORDS_PER_MINUTE = "165"
SENTENCE_GAP = 0.35
CHAPTER_GAP = 1.0

# (chapter title, sentences). Text from the Coalition's 2021 activity report.
CHAPTERS: list[tuple[str, list[str]]] = [
    (
        "Shaping Belgium's digital future",
        [
            "2021: activity report of the Cyber Security Coalition.",
            "Shaping Belgium's digital future.",
            "An interview with our Prime Minister, Alexander De Croo, about Belgium's cyber security strategy.",
            "2021 has been a year with a further acceleration of our digital transformation.",
            "At the same time cyber threats have been on the rise with increasingly extensive and serious attacks.",
            "In order to better arm our country against cyber crime, the federal government adopted "
            "a cyber security strategy 2.0 in May, to make Belgium one of the least vulnerable countries "
            "in Europe in terms of cyber security by 2025.",
        ],
    ),
    (
        "We are reaching more and more Belgians",
        [
            "Cyber threats were clearly increasing in 2021, but Belgium can be proud of its efforts "
            "to deal with this relatively new form of crime, describes Miguel De Bruycker, "
            "Managing Director of the Centre for Cyber Security Belgium.",
            "Several international studies show that Belgium is one of the best-performing countries "
            "in Europe for cyber security.",
            "Our country came in third in the recent National Cyber Security Index.",
            "In the spring of 2021 we had an above-average number of vulnerable Exchange servers; "
            "comprehensible communication made that number drop sharply in only a few weeks.",
            "We get about 12,000 messages a day, which proves that there is confidence in our operation.",
        ],
    ),
    (
        "A new Belgian cyber security strategy",
        [
            "The most important initiative that the CCB co-launched in 2021 was the renewed "
            "Belgian cyber security strategy, which aims to make Belgium one of the least "
            "vulnerable countries in Europe.",
            "Our goal is to better arm companies and users, and thus lower vulnerability.",
            "Sometimes it is unclear who is driving the car. But steps are being taken, and thanks "
            "to the cyber security strategy, we at least have a clear direction.",
        ],
    ),
]


def speak(sentence: str, workdir: Path) -> tuple[bytes, int]:
    """Synthesise one sentence; return raw 16-bit mono frames and the sample rate."""
    out = workdir / "sentence.wav"
    subprocess.run(["espeak-ng", "-v", VOICE, "-s", WORDS_PER_MINUTE, "-w", str(out), sentence], check=True)
    with wave.open(str(out)) as w:
        return w.readframes(w.getnframes()), w.getframerate()


def vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def make_cover() -> bytes:
    """A square 1400 px JPEG: the smallest size Apple accepts for show art."""
    img = Image.new("RGB", (1400, 1400), (12, 35, 64))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 1040, 1400, 1400), fill=(0, 156, 166))
    big = ImageFont.load_default(size=120)
    small = ImageFont.load_default(size=64)
    draw.text((100, 220), "Cyber Security", font=big, fill="white")
    draw.text((100, 370), "Coalition", font=big, fill="white")
    draw.text((100, 560), "Podcast", font=big, fill=(0, 200, 210))
    draw.text((100, 1150), "Shaping Belgium's digital future", font=small, fill="white")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=88)
    return buf.getvalue()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        pcm = bytearray()
        rate = 0
        chapter_starts: list[float] = []
        cues: list[tuple[float, float, str]] = []
        for _title, sentences in CHAPTERS:
            chapter_starts.append(len(pcm) / 2 / rate if rate else 0.0)
            for sentence in sentences:
                frames, rate = speak(sentence, workdir)
                start = len(pcm) / 2 / rate
                pcm += frames
                cues.append((start, len(pcm) / 2 / rate, sentence))
                pcm += bytes(2 * int(SENTENCE_GAP * rate))
            pcm += bytes(2 * int(CHAPTER_GAP * rate))
        duration = len(pcm) / 2 / rate

        wav_path = workdir / "narration.wav"
        with wave.open(str(wav_path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(bytes(pcm))
        mp3_path = EPISODE_DIR / "audio.mp3"
        subprocess.run(
            ["lame", "--quiet", "-m", "m", "-b", "64", "--resample", "44.1", str(wav_path), str(mp3_path)],
            check=True,
        )

    cover = make_cover()
    (SHOW_DIR / "cover.jpg").write_bytes(cover)

    tags = ID3()
    tags.add(TIT2(encoding=3, text="Shaping Belgium's digital future"))
    tags.add(TPE1(encoding=3, text="Cyber Security Coalition"))
    tags.add(TALB(encoding=3, text="Cyber Security Coalition Podcast"))
    tags.add(TDRC(encoding=3, text="2021"))
    tags.add(
        COMM(
            encoding=3,
            lang="eng",
            desc="",
            text="An interview with our Prime Minister about Belgium's cyber security strategy.",
        )
    )
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=cover))
    ends = chapter_starts[1:] + [duration]
    ids = [f"chp{i}" for i in range(len(CHAPTERS))]
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text="Chapters")],
        )
    )
    for element_id, (title, _), start, end in zip(ids, CHAPTERS, chapter_starts, ends):
        tags.add(
            CHAP(
                element_id=element_id,
                start_time=round(start * 1000),
                end_time=round(end * 1000),
                sub_frames=[TIT2(encoding=3, text=title)],
            )
        )
    tags.save(str(mp3_path), v2_version=4)

    lines = ["WEBVTT", ""]
    for start, end, text in cues:
        lines += [f"{vtt_time(start)} --> {vtt_time(end)}", text, ""]
    (EPISODE_DIR / "transcript.vtt").write_text("\n".join(lines), encoding="utf-8")
    print(f"{mp3_path.name}: {duration:.2f} s, chapters at {', '.join(f'{s:.2f}' for s in chapter_starts)} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
