"""ID3 tags for the MP3 files the service makes: what apps show before they read the feed.

Overcast and Pocket Casts read chapters from the file (CHAP frames listed by a
top-level CTOC, ID3v2 chapter addendum); every player shows the title, show
and cover art from the tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mutagen.id3 import APIC, CHAP, CTOC, ID3, TALB, TDRC, TIT2, TPE1, WXXX, CTOCFlags, Frame


@dataclass(frozen=True)
class TagChapter:
    start: float
    end: float | None
    title: str
    url: str | None = None


@dataclass(frozen=True)
class Tags:
    title: str
    show: str
    author: str
    year: int | None
    duration: float
    chapters: list[TagChapter]
    cover: bytes | None = None
    cover_mime: str = "image/jpeg"


def write(path: Path, tags: Tags) -> None:
    """Replace the file's ID3v2 tag with one made from the episode."""
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TALB(encoding=3, text=tags.show))
    id3.add(TPE1(encoding=3, text=tags.author or tags.show))
    if tags.year:
        id3.add(TDRC(encoding=3, text=str(tags.year)))
    if tags.cover:
        id3.add(APIC(encoding=3, mime=tags.cover_mime, type=3, desc="Cover", data=tags.cover))
    ids = [f"chp{n}" for n in range(len(tags.chapters))]
    if tags.chapters:
        id3.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text="Chapters")],
            )
        )
    for n, chapter in enumerate(tags.chapters):
        following = tags.chapters[n + 1].start if n + 1 < len(tags.chapters) else tags.duration
        end = chapter.end if chapter.end is not None else following
        sub_frames: list[Frame] = [TIT2(encoding=3, text=chapter.title)]
        if chapter.url:
            sub_frames.append(WXXX(encoding=3, desc="chapter url", url=chapter.url))
        id3.add(
            CHAP(
                element_id=ids[n],
                start_time=round(chapter.start * 1000),
                end_time=round(end * 1000),
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=sub_frames,
            )
        )
    id3.save(path, v2_version=3)
