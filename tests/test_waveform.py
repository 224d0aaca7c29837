"""The waveform drawn under the episode page's player, from the peaks the audio job stored."""

from __future__ import annotations

import re

import numpy as np
from fixtures.masters import RATE, speechlike, write_wav
from lxml import html

from podcast_service.catalogue.inputs import EpisodeInput
from podcast_service.catalogue.service import save_episode, storage_of
from podcast_service.models import utcnow
from podcast_service.web import waveform


def bar_heights(page: bytes) -> list[float]:
    [path] = html.fromstring(page).xpath("//svg[@class='waveform']//path/@d")
    return [float(h) for h in re.findall(r"v([0-9.]+)", path)]


def test_the_page_draws_where_the_audio_is_loud_and_where_it_is_silent(client, show, tmp_path):
    """Five seconds of silence, then five of speech: the left half of the drawing is flat, the right is not."""
    samples = np.concatenate([np.zeros((5 * RATE, 2), np.float32), speechlike(5, level=0.5)])
    episode = save_episode(
        show, EpisodeInput(title="Half silent", published_at=utcnow()), write_wav(tmp_path / "half.wav", samples)
    )
    page = client.get(f"/shows/test-show/{episode.slug}/")
    heights = bar_heights(page.data)
    assert len(heights) == waveform.BARS
    left, right = heights[: waveform.BARS // 2 - 2], heights[waveform.BARS // 2 + 2 :]
    assert max(left) <= 1.0  # silence: the thinnest line
    assert 10 < max(right) <= waveform.HEIGHT and np.mean(right) > 3 * np.mean(left)
    doc = html.fromstring(page.data)
    assert doc.xpath("//svg[@class='waveform']/@aria-hidden") == ["true"]  # the <audio> is the control


def test_without_its_file_the_page_is_shown_without_a_waveform(client, make_episode, caplog):
    episode = make_episode(title="Lost peaks")
    storage_of(episode.waveform).delete(episode.waveform.key)
    r = client.get(f"/shows/test-show/{episode.slug}/")
    assert r.status_code == 200 and b"<audio" in r.data and b'class="waveform"' not in r.data
    assert "not drawn" in caplog.text


def test_bars_reduce_any_number_of_points():
    data = {"bits": 8, "data": [-128, 127, 0, 0, -64, 64]}
    assert waveform.bars(data, count=3) == [1.0, 0.0, 0.5]
    assert len(waveform.bars(data, count=160)) == 160  # fewer points than bars: each point spans several
    for broken in ({"bits": 16, "data": [1, 2]}, {"bits": 8, "data": []}):
        try:
            waveform.bars(broken)
        except ValueError:
            continue
        raise AssertionError(f"{broken} accepted")
