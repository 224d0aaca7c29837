"""Requests that would cost far more than they carry are refused early, within a bounded amount of work.

Work is counted (bytes read, frame headers parsed), never timed, so these
hold on a busy machine too.
"""

from __future__ import annotations

import io
import json
import subprocess
import wave
from dataclasses import replace

import pytest
from fixtures.app import AUDIO, csrf_token, multipart
from mutagen.id3 import APIC, ID3

from podcast_service.core.errors import MediaError
from podcast_service.core.extensions import db
from podcast_service.core.uploads import SMALL_BODY_BYTES
from podcast_service.media.audio import mpeg


class CountingStream(io.RawIOBase):
    """A request body of `size` bytes made on demand, counting what the server reads of it."""

    def __init__(self, size: int, fill: bytes = b"x") -> None:
        self.size, self.fill, self.read_bytes, self.position = size, fill, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        """Only what the test client does to measure the body: to the end and back, reading nothing."""
        self.position = self.size if whence == 2 else offset
        return self.position

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.position)
        buffer[:n] = self.fill * n if len(self.fill) == 1 else (self.fill * (n // len(self.fill) + 1))[:n]
        self.read_bytes += n
        self.position += n
        return n


def post_stream(client, path: str, stream: CountingStream, content_type: str, **headers):
    return client.post(
        path, input_stream=stream, content_type=content_type, headers={"Content-Length": str(stream.size), **headers}
    )


def spooled_files(app) -> list:
    folder = app.config["PODCAST"].upload_temp_path
    return list(folder.iterdir()) if folder.exists() else []


def test_an_anonymous_large_post_is_refused_before_its_body_is_read(app, client):
    stream = CountingStream(500 * 1024 * 1024)
    r = post_stream(client, "/admin/login", stream, "multipart/form-data; boundary=x")
    assert r.status_code == 413
    assert stream.read_bytes == 0 and spooled_files(app) == []


def test_a_large_json_body_is_refused_even_with_a_valid_token(app, client, show, admin_headers):
    stream = CountingStream(300 * 1024 * 1024, b" ")
    r = post_stream(client, "/api/v1/shows/test-show/subscribers", stream, "application/json", **admin_headers)
    assert r.status_code == 413 and "error" in r.json
    assert stream.read_bytes == 0
    # Within the limit, JSON works as before.
    r = client.patch(
        "/api/v1/shows/test-show",
        headers=admin_headers,
        json={"description": "x" * 3000, "funding": [["https://example.org/", "y" * 100]] * 50},
    )
    assert r.status_code == 200


def test_json_sent_to_an_upload_route_gets_the_small_limit(client, make_episode, admin_headers):
    """An upload route takes files as multipart/form-data; a JSON body there is read into memory, so it stays small."""
    episode = make_episode()
    stream = CountingStream(8 * 1024 * 1024 * 1024, b" ")
    r = client.patch(
        f"/api/v1/shows/test-show/episodes/{episode.id}",
        input_stream=stream,
        content_type="application/json",
        headers={"Content-Length": str(stream.size), **admin_headers},
    )
    assert r.status_code == 413 and "error" in r.json
    assert stream.read_bytes == 0
    r = client.patch(f"/api/v1/shows/test-show/episodes/{episode.id}", headers=admin_headers, json={"title": "Small"})
    assert r.status_code == 200 and r.json["title"] == "Small"


def test_a_signed_in_producer_sends_large_bodies_only_to_upload_routes(app, signed_in, show, tmp_path):
    token = csrf_token(signed_in, "/admin/tokens")
    stream = CountingStream(SMALL_BODY_BYTES * 4)
    r = post_stream(signed_in, "/admin/tokens", stream, "application/x-www-form-urlencoded", **{"X-CSRFToken": token})
    assert r.status_code == 413 and stream.read_bytes == 0
    # An upload route takes a body past the small limit.
    with wave.open(str(tmp_path / "master.wav"), "wb") as master:
        master.setnchannels(2), master.setsampwidth(2), master.setframerate(48000)
        master.writeframes(b"\1\0" * 2 * 48000 * 8)  # eight seconds
    audio = (tmp_path / "master.wav").read_bytes()
    assert len(audio) > SMALL_BODY_BYTES
    body = multipart(csrf_token=csrf_token(signed_in, "/admin/shows/test-show/episodes/new"), audio=(audio, "ep.mp3"))
    r = signed_in.post("/admin/shows/test-show/episodes/upload", headers={"Accept": "application/json"}, **body)
    assert r.status_code == 201, r.text


def crafted_mp3(junk_bytes: int) -> bytes:
    """Real frames, so mutagen calls it an MP3, then junk where every other byte could start a frame."""
    return (AUDIO / "cbr.mp3").read_bytes() + b"\xff\x00" * (junk_bytes // 2)


@pytest.mark.parametrize("size", [4 * 1024 * 1024, 16 * 1024 * 1024])
def test_a_crafted_mp3_is_refused_after_a_fixed_amount_of_work(monkeypatch, size):
    calls = []
    real = mpeg.parse_header
    monkeypatch.setattr(mpeg, "parse_header", lambda b: calls.append(1) or real(b))
    with pytest.raises(MediaError, match="damaged"):
        mpeg.scan(io.BytesIO(crafted_mp3(size)))
    # The same bound for a 4 MiB and a 16 MiB file: at most one candidate per byte of the allowance.
    assert len(calls) < mpeg.JUNK_ALLOWANCE + 1000


def test_a_crafted_mp3_upload_is_a_clear_422(client, show, admin_headers):
    body = multipart(audio=(crafted_mp3(16 * 1024 * 1024), "crafted.mp3"))
    r = client.post("/api/v1/shows/test-show/episodes", headers=admin_headers, **body)
    assert r.status_code == 422 and "damaged" in r.json["error"]["message"]


def test_the_scanner_reads_the_right_bytes_after_a_look_ahead_crosses_its_buffer(monkeypatch):
    """A first frame just before a buffer boundary: the Info check must read that frame, not the next buffer."""
    monkeypatch.setattr(mpeg, "CHUNK", 64)
    data = (AUDIO / "cbr.mp3").read_bytes()
    with_small_buffer = mpeg.scan(io.BytesIO(data))
    monkeypatch.setattr(mpeg, "CHUNK", 1 << 20)
    assert with_small_buffer == mpeg.scan(io.BytesIO(data))


def test_an_oversized_embedded_picture_is_refused_before_it_is_loaded(client, show, admin_headers, tmp_path):
    path = tmp_path / "big-cover.mp3"
    path.write_bytes((AUDIO / "cbr.mp3").read_bytes())
    tags = ID3()
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="cover", data=b"\xff\xd8" + b"\0" * (20 << 20)))
    tags.save(path)
    r = client.post(
        "/api/v1/shows/test-show/episodes",
        headers=admin_headers,
        **multipart(audio=(path.read_bytes(), "big-cover.mp3")),
    )
    assert r.status_code == 413 and "tags" in r.json["error"]["message"]


def test_a_huge_transcript_is_refused(client, make_episode, admin_headers):
    episode = make_episode()
    cue = "00:00:00.000 --> 00:00:01.000\n" + "word " * 40 + "\n\n"
    huge = ("WEBVTT\n\n" + cue * (3 * 1024 * 1024 // len(cue))).encode()
    r = client.put(
        f"/api/v1/shows/test-show/episodes/{episode.id}/transcript",
        headers=admin_headers,
        **multipart(transcript=(huge, "huge.vtt")),
    )
    assert r.status_code == 413 and "transcript" in r.json["error"]["message"]
    page = client.get(f"/shows/test-show/{episode.slug}/")
    assert page.status_code == 200 and len(page.data) < 100_000


def test_a_json_list_of_many_fields_is_a_clear_error(client, show, admin_headers):
    r = client.patch(
        "/api/v1/shows/test-show",
        headers=admin_headers,
        data=json.dumps({"description": "x" * (SMALL_BODY_BYTES + 1)}),
        content_type="application/json",
    )
    assert r.status_code == 413


@pytest.mark.parametrize("number", ["9223372036854775807", "1" * 5000, "²", "1000001"])
def test_a_page_number_past_any_database_integer_is_a_404(client, make_episode, admin_headers, number):
    """Read as an OFFSET, 2**63 - 1 overflows PostgreSQL's bigint and SQLite's integer: it is a page that does not exist."""
    make_episode()
    for path, headers in [
        ("/api/v1/shows/test-show/episodes", admin_headers),
        ("/api/v1/shows", admin_headers),
        ("/shows/test-show/", {}),
        ("/shows/test-show/search?q=Episode", {}),
    ]:
        r = client.get(f"{path}{'&' if '?' in path else '?'}page={number}", headers=headers)
        assert r.status_code == 404, (path, r.status_code)
        if path.startswith("/api"):
            assert r.json["error"]["message"].startswith("there is no page")
    assert client.get("/shows/test-show/?page=1000000").status_code == 404


def test_a_small_file_of_hours_of_silence_is_refused_before_any_job_runs(app, client, show, admin_headers, tmp_path):
    """FLAC compresses silence to almost nothing: a few hundred kilobytes would keep a worker encoding for minutes."""
    from podcast_service.models import AudioJob, Episode

    app.config["PODCAST"] = replace(app.config["PODCAST"], max_audio_hours=1)
    silence = tmp_path / "silence.flac"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "3660", str(silence)],
        check=True,
    )
    assert silence.stat().st_size < 2 * 1024 * 1024
    body = multipart(audio=(silence.read_bytes(), "silence.flac"), title="Silence")
    r = client.post("/api/v1/shows/test-show/episodes", headers=admin_headers, **body)
    assert r.status_code == 422 and "1.0 hours" in r.json["error"]["message"] and "at most 1 hours" in r.text
    assert db.session.query(Episode).count() == 0 and db.session.query(AudioJob).count() == 0
    assert spooled_files(app) == []


@pytest.fixture
def markdown_renders(monkeypatch):
    """How many times Markdown is rendered, whatever calls it."""
    from markdown_it import MarkdownIt

    calls = []
    render = MarkdownIt.render

    def counted(self, text, env=None):
        calls.append(len(text))
        return render(self, text, env)

    monkeypatch.setattr(MarkdownIt, "render", counted)
    return calls


@pytest.mark.parametrize("notes", ["[" * 99_000, "*a" * 49_000, "![" * 49_000])
def test_pathological_notes_are_rendered_once_when_saved_never_per_view(
    client, make_episode, admin_headers, markdown_renders, notes
):
    episode = make_episode()
    markdown_renders.clear()
    r = client.patch(f"/api/v1/shows/test-show/episodes/{episode.id}", headers=admin_headers, json={"notes": notes})
    assert r.status_code == 200
    assert markdown_renders == [len(notes)]
    for _ in range(3):
        page = client.get(f"/shows/test-show/{episode.slug}/")
        assert page.status_code == 200 and 'class="card notes"' in page.text
    assert markdown_renders == [len(notes)]  # the views rendered nothing


def test_chapters_soundbites_and_people_have_a_cap_with_a_clear_message(client, make_episode, admin_headers):
    from podcast_service.catalogue.inputs import MAX_CHAPTERS, MAX_PEOPLE, MAX_SOUNDBITES

    episode = make_episode()  # a 2-minute episode
    path = f"/api/v1/shows/test-show/episodes/{episode.id}"
    many = [{"start": i * 0.005, "title": f"C{i}"} for i in range(20_000)]
    r = client.put(f"{path}/chapters", headers=admin_headers, json=many)
    assert r.status_code == 422
    assert r.json["error"]["message"] == f"an episode may have at most {MAX_CHAPTERS} chapters; this one has 20000"
    r = client.patch(path, headers=admin_headers, json={"soundbites": [[i, 1] for i in range(MAX_SOUNDBITES + 1)]})
    assert r.status_code == 422 and f"at most {MAX_SOUNDBITES} soundbites" in r.json["error"]["message"]
    people = [{"name": f"Guest {i}"} for i in range(MAX_PEOPLE + 1)]
    r = client.patch(path, headers=admin_headers, json={"people": people})
    assert r.status_code == 422 and f"at most {MAX_PEOPLE} people" in r.json["error"]["message"]
    # At the cap, the episode is saved, and a page view lists each chapter once.
    r = client.put(f"{path}/chapters", headers=admin_headers, json=many[:MAX_CHAPTERS])
    assert r.status_code == 200 and len(r.json["chapters"]) == MAX_CHAPTERS
    page = client.get(f"/shows/test-show/{episode.slug}/").text
    assert page.count(">C499<") == 1
