"""Long transcripts on the episode page: shown in parts, so a page view costs the same for any length."""

from __future__ import annotations

from fixtures.counting import counting
from lxml import html

from podcast_service.web import transcript_parts

PART = transcript_parts.PART_SIZE


def stamp(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}.000"


def vtt(path, cues: int):
    """A WebVTT file of `cues` two-second cues, each naming its number."""
    lines = ["WEBVTT", ""]
    for n in range(cues):
        lines += [f"{stamp(2 * n)} --> {stamp(2 * n + 2)}", f"Cue number {n}", ""]
    path.write_text("\n".join(lines))
    return path


def cue_texts(client, path: str) -> list[str]:
    r = client.get(path)
    assert r.status_code == 200, r.status_code
    return [p.xpath("string(.)") for p in html.fromstring(r.data).xpath("//div[@class='cues']/p")]


def test_a_long_transcript_comes_in_parts_with_links_between_them(client, make_episode, tmp_path):
    episode = make_episode(title="Long talk", transcript=vtt(tmp_path / "long.vtt", 2 * PART + 50))
    path = f"/shows/test-show/{episode.slug}/"
    first, second, third = (cue_texts(client, path + q) for q in ("", "?transcript=2", "?transcript=3"))
    assert (len(first), len(second), len(third)) == (PART, PART, 50)
    assert first[0].endswith("Cue number 0") and second[0].endswith(f"Cue number {PART}")
    assert third[-1].endswith(f"Cue number {2 * PART + 49}")
    doc = html.fromstring(client.get(path + "?transcript=2").data)
    assert doc.xpath("//nav[@aria-label='Parts of the transcript']/a/@href") == [
        f"{path}#transcript",
        f"{path}?transcript=3#transcript",
    ]
    for bad in ("4", "0", "x", "-1", "1e3"):
        assert client.get(path, query_string={"transcript": bad}).status_code == 404, bad
    # The whole file stays one link away.
    assert doc.xpath("//section[@id='transcript']//a[starts-with(., 'Download')]/@href")


def test_a_short_transcript_is_one_part_without_links(client, make_episode, tmp_path):
    episode = make_episode(title="Short talk", transcript=vtt(tmp_path / "short.vtt", 12))
    doc = html.fromstring(client.get(f"/shows/test-show/{episode.slug}/").data)
    assert len(doc.xpath("//div[@class='cues']/p")) == 12 and not doc.xpath("//nav[@class='pages']")


def test_a_page_view_costs_the_same_for_a_short_and_a_very_long_transcript(client, make_episode, tmp_path):
    """Same queries, nearly the same bytes; and once a process has the cues, no view reads them again."""
    measured = {}
    for cues in (PART + 1, 20 * PART):
        episode = make_episode(title=f"Talk of {cues}", transcript=vtt(tmp_path / f"{cues}.vtt", cues))
        path = f"/shows/test-show/{episode.slug}/"
        client.get(path)  # the first view in this process reads the cues once
        with counting() as statements:
            size = len(client.get(path).data)
        measured[cues] = (len(statements), size)
        assert not [s for s in statements if "transcript_cues" in s], statements
    (short_queries, short_size), (long_queries, long_size) = measured.values()
    assert short_queries == long_queries
    assert abs(long_size - short_size) < 200  # the title and the part's label differ, nothing else
