"""The waveform the episode page draws behind its player, from the peaks the audio job stored.

The page draws it as an inline SVG (no request of its own, nothing for the
Content-Security-Policy to allow, visible before any script runs); the
player script colours the part played and seeks where it is clicked. The
stored file (audiowaveform's JSON, about 2,000 min/max pairs) is read once
per process and reduced to BARS bars: its key never changes (a new upload
makes a new file), so the reduction can be kept for as long as the process
lives, and a page view costs no read of the store.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass

from ..catalogue.service import stores
from ..core.errors import StorageError
from ..models import Episode

log = logging.getLogger(__name__)

BARS = 160
HEIGHT = 40  # the SVG's viewBox: BARS wide, HEIGHT high, stretched to the player's width by CSS


@dataclass(frozen=True)
class Waveform:
    path: str  # one SVG path of every bar, centred on the middle line
    bars: int = BARS
    height: int = HEIGHT


def bars(data: dict, count: int = BARS) -> list[float]:
    """The loudest peak (0..1) in each of `count` equal slices of audiowaveform v2 data (8-bit min/max pairs)."""
    values = data["data"]
    pairs = len(values) // 2
    if data.get("bits") != 8 or pairs == 0:
        raise ValueError("expected 8-bit audiowaveform data with at least one point")
    peaks = [max(abs(values[2 * i]), abs(values[2 * i + 1])) / 128 for i in range(pairs)]
    return [
        max(peaks[i * pairs // count : max(i * pairs // count + 1, (i + 1) * pairs // count)], default=0.0)
        for i in range(count)
    ]


def svg_path(levels: list[float], height: int = HEIGHT) -> str:
    """Bars 0.7 wide at x = 0, 1, 2...; never thinner than one unit so silence still shows a line."""
    middle = height / 2
    parts = []
    for x, level in enumerate(levels):
        half = max(0.5, min(1.0, level) * middle)
        parts.append(f"M{x + 0.15:g} {middle - half:.1f}h0.7v{2 * half:.1f}h-0.7z")
    return "".join(parts)


@functools.lru_cache(maxsize=4096)
def _drawn(backend: str, key: str) -> Waveform:
    """Read and reduced once per process (a failure raises, and lru_cache keeps no failure)."""
    return Waveform(svg_path(bars(json.loads(stores()[backend].read_bytes(key)))))


def for_episode(episode: Episode) -> Waveform | None:
    """The episode's waveform, or None while its audio job has not made one (or the store cannot be read:
    the page is then shown without it, and the next view tries again)."""
    if episode.waveform is None:
        return None
    try:
        return _drawn(episode.waveform.backend, episode.waveform.key)
    except (StorageError, ValueError, KeyError, TypeError) as e:
        log.warning("episode %s: waveform %s not drawn: %s", episode.id, episode.waveform.key, e)
        return None
