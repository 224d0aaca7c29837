"""Masters as producers export them, generated in the test run: a speech-like signal in WAV, FLAC,
AIFF and Opus, and a damaged one.

The signal is voiced (a wandering 120 Hz fundamental and its harmonics) in
syllables of about a quarter second with pauses between phrases, recorded
quietly (about -34 LUFS), so normalisation has real work to do.
"""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np

RATE = 48000
# container format, codec, sample format
CODECS = {"flac": ("flac", "flac", "s16"), "aiff": ("aiff", "pcm_s16be", "s16"), "opus": ("ogg", "libopus", "flt")}


def speechlike(seconds: float, level: float = 0.1, seed: int = 1) -> np.ndarray:
    """Stereo float samples, shape (n, 2)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = 120 + 25 * np.sin(2 * np.pi * 0.7 * t) + 10 * np.sin(2 * np.pi * 2.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 25))
    syllables = np.clip(np.sin(2 * np.pi * 4 * t + rng.uniform(0, 6)), 0, None) ** 0.5
    envelope = syllables * (np.sin(2 * np.pi * 0.25 * t) > -0.6)  # phrases with pauses between them
    x = level * (voice * envelope / 3 + rng.standard_normal(len(t)) * 0.01 * envelope)
    return np.stack([x, x * 0.9]).T.astype(np.float32)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def repeated(seconds: float, period: float = 20.0) -> np.ndarray:
    """`seconds` of the signal, made of a `period` repeated: long masters without long waits."""
    once = speechlike(min(seconds, period))
    count = int(seconds * RATE)
    return np.tile(once, (count // len(once) + 1, 1))[:count]


def write_master(path: Path, seconds: float) -> Path:
    """A master in the format its suffix names (.wav, .flac, .aiff, .opus)."""
    samples = repeated(seconds)
    fmt = path.suffix.lstrip(".")
    if fmt == "wav":
        return write_wav(path, samples)
    container_format, codec, sample_format = CODECS[fmt]
    with av.open(str(path), "w", format=container_format) as out:
        stream = out.add_stream(codec, rate=RATE, layout="stereo")
        if codec == "libopus":
            stream.bit_rate = 96000
        step = 960
        for start in range(0, len(samples), step):
            chunk = samples[start : start + step]
            if sample_format == "s16":
                frame = av.AudioFrame.from_ndarray(
                    (chunk * 32767).astype("<i2").reshape(1, -1), format="s16", layout="stereo"
                )
            else:
                frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="stereo")
            frame.sample_rate = RATE
            frame.pts = start
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def damaged_flac(path: Path, seconds: float = 6.0) -> Path:
    """A FLAC whose header is intact (the probe accepts it) and whose audio frames are noise."""
    write_master(path, seconds)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(7)
    start = 8192
    data[start:] = rng.integers(0, 256, len(data) - start, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path
