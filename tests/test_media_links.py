"""The links nginx sends public audio from (podcast_service/delivery/media_links.py), on a real folder, and the map in
deploy/nginx.conf that reads their folders to decide which requests to report for counting."""

from __future__ import annotations

import logging
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from podcast_service.delivery import media_links

CREATED = datetime(2026, 11, 2, 9, 30, 15, 250000, tzinfo=UTC)
NOW = 1_795_873_386.5  # a time in the window 179587338


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    path = tmp_path / "media" / "shows" / "1" / "audio.mp3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"ID3" + bytes(997))
    return path


def links_of(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root / media_links.FOLDER).as_posix()
        for p in (root / media_links.FOLDER).rglob("*")
        if p.is_symlink()
    )


def test_a_link_points_at_the_file_for_its_window_and_as_the_latest_and_dates_the_file(tmp_path, stored):
    root = tmp_path / "media"
    media_links.leave(root, stored, "abc123.mp3", CREATED, "6", now=NOW)
    assert links_of(root) == ["179587338/6/abc123.mp3", "latest/6/abc123.mp3"]
    for link in links_of(root):
        path = root / media_links.FOLDER / link
        assert not os.readlink(path).startswith("/")  # relative: the folder may be mounted elsewhere for nginx
        assert path.read_bytes() == stored.read_bytes()
    # nginx's Last-Modified and ETag come from the file: its mtime is the file's creation, to the second.
    assert stored.stat().st_mtime == int(CREATED.timestamp())


def test_the_next_window_sweeps_the_last_and_latest_links_unused_for_ten_minutes(tmp_path, stored):
    root = tmp_path / "media"
    media_links.leave(root, stored, "old.mp3", CREATED, "n", now=NOW - media_links.KEEP_LATEST_SECONDS - 60)
    media_links.leave(root, stored, "abc123.mp3", CREATED, "6", now=NOW)
    stale = root / media_links.FOLDER / "latest" / "n" / "old.mp3"
    then = NOW - media_links.KEEP_LATEST_SECONDS - 60
    os.utime(stale, (then, then), follow_symlinks=False)
    media_links.leave(root, stored, "abc123.mp3", CREATED, "6", now=NOW + media_links.WINDOW_SECONDS)
    assert links_of(root) == ["179587339/6/abc123.mp3", "latest/6/abc123.mp3"]


def test_forgetting_drops_one_files_links_or_every_windows_and_a_pattern_drops_nothing(tmp_path, stored):
    root = tmp_path / "media"
    for name in ("abc123.mp3", "def456.m4a", "ghi789.mp3"):
        media_links.leave(root, stored, name, CREATED, "7", now=NOW)
    for hostile in ("*", "..", "abc123.mp3/..", "a/b", ""):
        media_links.forget(root, hostile)
    assert len(links_of(root)) == 6
    media_links.forget(root, "abc123")
    assert links_of(root) == [
        "179587338/7/def456.m4a",
        "179587338/7/ghi789.mp3",
        "latest/7/def456.m4a",
        "latest/7/ghi789.mp3",
    ]
    # A change: every window's links go (nginx asks again); for outages, only what is still public stays.
    media_links.forget_windows(root)
    latest = root / media_links.FOLDER / media_links.LATEST
    media_links.keep_only(media_links.kept(latest, "*/*"), lambda ids: ids & {"def456"})
    assert links_of(root) == ["latest/7/def456.m4a"]
    assert sorted(p.name for p in root.iterdir()) == [media_links.FOLDER, "shows"]  # nothing else beside the media

    def unreachable(_ids):
        raise OperationalError("SELECT", {}, Exception("the database is down"))

    media_links.keep_only(media_links.kept(latest, "*/*"), unreachable)  # cannot tell what is public: nothing kept
    assert links_of(root) == []
    media_links.forget_windows(root)  # nothing to drop: no error


def test_a_link_that_cannot_be_made_is_logged_and_the_request_goes_on(tmp_path, stored, caplog):
    root = tmp_path / "media"
    (root / media_links.FOLDER).write_text("not a folder")  # as a full disk or a wrong owner would fail
    with caplog.at_level(logging.WARNING):
        media_links.leave(root, stored, "abc123.mp3", CREATED, "6", now=NOW)
    assert "cannot leave abc123.mp3 for nginx" in caplog.text


@pytest.mark.parametrize(
    ("threshold", "folder"),
    [
        (None, "n"),
        (9_999, None),
        (10_000, "5"),
        (99_999, "5"),
        (960_000, "6"),
        (2_400_000, "7"),
        (99_999_999, "8"),
        (100_000_000, None),
    ],
)
def test_only_thresholds_nginx_can_filter_get_a_folder(threshold, folder):
    assert media_links.link_class(threshold) == folder


def counted_pattern() -> re.Pattern:
    site = (Path(__file__).parent.parent / "deploy" / "nginx.conf").read_text()
    line = site.split("$podcast_media_counted {", 1)[1].strip().splitlines()[0]
    return re.compile(re.fullmatch(r'"~(.+)"\s+1;', line.strip()).group(1))


@pytest.mark.parametrize(
    ("key", "reported"),
    [
        ("GET:/179587338/6/abc.mp3:", True),  # no Range
        ("GET:/179587338/6/abc.mp3:bytes=-100", True),  # the last bytes: the service decides
        ("GET:/179587338/6/abc.mp3:bytes=999999-", True),
        ("GET:/179587338/6/abc.mp3:bytes=1000000-", False),  # more digits than any 6-digit threshold
        ("GET:/179587338/5/abc.mp3:bytes=99999-100000", True),
        ("GET:/179587338/5/abc.mp3:bytes=100000-", False),
        ("GET:/179587338/8/abc.mp3:bytes=12345678-", True),
        ("GET:/179587338/8/abc.mp3:bytes=123456789-", False),
        ("GET:/latest/7/abc.mp3:bytes=0-1", True),  # sent while the service is down
        ("GET:/179587338/n/abc.mp3:", False),  # not counted
        ("GET:/179587338/n/abc.mp3:bytes=0-1", False),
        ("HEAD:/179587338/6/abc.mp3:", False),
        ("GET:/179587338/6/abc.mp3:bytes=1000000-1 2:bytes=0-", False),  # a Range made to look like another key
        ("GET:/179587338/n/abc.mp3:bytes=-:/1/6/", False),  # ... or like a counted link's folder
        ("GET:/179587338/6/abc.mp3:bytes=9999999:/1/8/x:bytes=1-", False),
    ],
)
def test_nginx_reports_only_gets_that_may_start_within_the_first_minute(key, reported):
    """The map's expression, read from the shipped site and tried with Python's re (the same syntax here)."""
    assert bool(counted_pattern().search(key)) is reported
