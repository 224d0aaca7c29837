"""Probing real files of every supported format, and refusing what is not audio."""

from __future__ import annotations

import io
import os
import random
import zipfile

import mutagen
import pytest
from fixtures.app import AUDIO, MANIFEST

from podcast_service.core.errors import MediaError
from podcast_service.media.audio import probe as media


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_duration_format_and_stream_facts(name):
    expected = MANIFEST[name]
    info = media.probe(AUDIO / name)
    assert info.format == expected["format"]
    assert info.mime_type == expected["mime"]
    assert info.extension == "." + expected["format"]
    assert abs(info.duration - expected["duration"]) < 0.05, (info.duration, expected["duration"])
    assert info.sample_rate == expected["sample_rate"]
    if expected["format"] != "m4a":  # mutagen reads the MP4 sample entry's channel count, not the codec's
        assert info.channels == expected["channels"]
    assert info.bitrate > 0


@pytest.mark.parametrize("name", ["vbr_noxing.mp3", "vbr_noxing_mpeg2.mp3", "vbr_noxing_tagged.mp3"])
def test_vbr_without_xing_header_is_measured_by_counting_frames(name):
    """mutagen's own estimate is far off for these files; the frame count is what a player plays."""
    guessed = mutagen.File(AUDIO / name).info.length
    truth = MANIFEST[name]["duration"]
    assert abs(guessed - truth) > 1.0, "fixture no longer exercises the frame scan"
    assert abs(media.probe(AUDIO / name).duration - truth) < 0.05


def test_id3_tags_cover_and_chapters():
    info = media.probe(AUDIO / "vbr_noxing_tagged.mp3")
    assert info.title == "Fixture <b>title</b>"
    assert info.artist == "Fixture Artist"
    assert info.comment == "A comment from the file."
    assert info.cover is not None and info.cover.mime_type == "image/png"
    assert info.cover.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert [(c.start, c.end, c.title) for c in info.chapters] == [(0.0, 2.5, "Silence"), (2.5, 6.0, "Noise")]


def test_demo_episode_carries_its_metadata():
    from fixtures.app import DEMO_EPISODES

    info = media.probe(DEMO_EPISODES / "2021-shaping-belgiums-digital-future" / "audio.mp3")
    assert info.title == "Shaping Belgium's digital future"
    assert info.artist == "Cyber Security Coalition"
    assert info.cover is not None and info.cover.mime_type == "image/jpeg"
    assert [c.title for c in info.chapters] == [
        "Shaping Belgium's digital future",
        "We are reaching more and more Belgians",
        "A new Belgian cyber security strategy",
    ]


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "not audio " * 500)
    return buf.getvalue()


BAD_FILES = {
    "empty": lambda: b"",
    "text": lambda: b"This is a text file, not an MP3.\n" * 200,
    "random": lambda: random.Random(7).randbytes(64 * 1024),
    "image": lambda: (AUDIO.parent.parent.parent / "episodes" / "cover.jpg").read_bytes(),
    "archive": _zip_bytes,
    "truncated": lambda: (AUDIO / "cbr.mp3").read_bytes()[:-100],
    "header_only": lambda: (AUDIO / "vbr_noxing_tagged.mp3").read_bytes()[:600],
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_files_named_mp3_raise_media_error(tmp_path, kind):
    path = tmp_path / "episode.mp3"
    path.write_bytes(BAD_FILES[kind]())
    with pytest.raises(MediaError) as exc:
        media.probe(path)
    assert str(exc.value)  # a message for the user, not an empty error


def test_missing_file_is_a_media_error(tmp_path):
    with pytest.raises(MediaError, match="cannot be read"):
        media.probe(tmp_path / "nope.mp3")


def test_damaged_middle_is_refused(tmp_path):
    data = bytearray((AUDIO / "cbr.mp3").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8000] = os.urandom(8000)
    path = tmp_path / "damaged.mp3"
    path.write_bytes(bytes(data))
    with pytest.raises(MediaError, match="damaged"):
        media.probe(path)
