"""Decode an upload to measure it and make the files apps play (FFmpeg through PyAV).

Two passes over the source, each streaming frame by frame (memory stays flat
whatever the length): the first measures integrated loudness and true peak
(FFmpeg's ebur128 filter, ITU-R BS.1770-4) and draws the waveform; the
second, needed only where renditions are made, applies the gain that brings
the episode to its target and encodes MP3 and Opus side by side from the same
decoded frames. The gain must be known before the first sample is encoded,
hence two passes rather than one.
"""

from __future__ import annotations

import json
import math
import queue
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import av
import av.filter
import numpy as np

from ...core.errors import MediaError

# Progress callbacks get a fraction of the whole job (0.0 to 1.0).
Progress = Callable[[float], None]
# EBU R128 / Apple's advice for podcasts: -16 LUFS for stereo, 3 LU lower for mono (the same perceived
# loudness on headphones), and a true-peak ceiling that leaves room for lossy encoders' overshoot.
TARGET_STEREO_LUFS = -16.0
TARGET_MONO_LUFS = -19.0
TRUE_PEAK_CEILING_DBTP = -1.0
# The waveform: audiowaveform's JSON layout (version 2, 8-bit min/max pairs), about this many points
# whatever the length, so a player draws an hour-long episode from a few kilobytes.
WAVEFORM_POINTS = 2000
WAVEFORM_MIN_SAMPLES_PER_PIXEL = 256
OPUS_RATE = 48000
# How much shorter than its header says a file may decode before it counts as damaged.
DAMAGE_TOLERANCE = 0.02
MP3_RATE = 44100


@dataclass(frozen=True)
class Analysis:
    loudness: float | None  # integrated, LUFS; None for digital silence
    true_peak: float | None  # dBTP
    waveform: dict  # audiowaveform JSON (version 2)


@dataclass(frozen=True)
class EncodeSettings:
    mp3_kbps: int
    opus_kbps: int
    channels: int  # 1 (mono) or 2 (stereo)
    normalize: bool
    ffmpeg: str | None = None  # the ffmpeg command line, to encode the MP3 with; None: PyAV's own

    @property
    def target_lufs(self) -> float:
        return TARGET_MONO_LUFS if self.channels == 1 else TARGET_STEREO_LUFS


@dataclass(frozen=True)
class Renditions:
    mp3: Path
    opus: Path
    gain_db: float  # what was applied (0.0 without normalisation)


def _open(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path))
    except av.FFmpegError as e:
        raise MediaError(f"the audio cannot be decoded ({e.strerror or e})") from None
    if not container.streams.audio:
        container.close()
        raise MediaError("the file holds no audio stream")
    return container


def _frames(
    container: av.container.InputContainer, duration: float, progress: Progress, share: tuple[float, float]
) -> Iterator[av.AudioFrame]:
    """Decoded frames of the first audio stream, reporting progress over `share` of the job."""
    stream = container.streams.audio[0]
    start, width = share
    try:
        for frame in container.decode(stream):
            if frame.time is not None and duration > 0:
                progress(start + width * min(1.0, frame.time / duration))
            yield frame
    except av.FFmpegError as e:
        raise MediaError(f"the audio is damaged and cannot be decoded ({e.strerror or e})") from None


def _drain(graph: av.filter.Graph) -> Iterator[av.AudioFrame]:
    while True:
        try:
            yield cast(av.AudioFrame, graph.pull())  # an audio graph gives audio frames
        except (av.BlockingIOError, av.EOFError):
            return


def _db(linear: float) -> float | None:
    return 20 * math.log10(linear) if linear > 0 else None


class _Waveform:
    """Min/max pairs of the mono mix, `samples_per_pixel` samples each, scaled to 8 bits."""

    def __init__(self, sample_rate: int, duration: float) -> None:
        self.sample_rate = sample_rate
        total = max(1, round(duration * sample_rate))
        self.samples_per_pixel = max(WAVEFORM_MIN_SAMPLES_PER_PIXEL, math.ceil(total / WAVEFORM_POINTS))
        self.resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        self.pending = np.zeros(0, dtype=np.float32)
        self.pairs: list[np.ndarray] = []

    def add(self, frame: av.AudioFrame | None) -> None:
        for mono in self.resampler.resample(frame):
            self.pending = np.concatenate((self.pending, mono.to_ndarray().reshape(-1)))
        whole = len(self.pending) // self.samples_per_pixel * self.samples_per_pixel
        if frame is None:
            whole = len(self.pending)
        if whole:
            self._pixels(self.pending[:whole])
            self.pending = self.pending[whole:]

    def _pixels(self, samples: np.ndarray) -> None:
        spp = self.samples_per_pixel
        padded = np.pad(samples, (0, -len(samples) % spp))
        blocks = padded.reshape(-1, spp)
        pairs = np.stack((blocks.min(axis=1), blocks.max(axis=1)), axis=1).reshape(-1)
        self.pairs.append(np.clip(np.round(pairs * 127), -128, 127).astype(np.int8))

    def result(self) -> dict:
        data = np.concatenate(self.pairs).tolist() if self.pairs else []
        return {
            "version": 2,
            "channels": 1,
            "sample_rate": self.sample_rate,
            "samples_per_pixel": self.samples_per_pixel,
            "bits": 8,
            "length": len(data) // 2,
            "data": data,
        }


def analyse(
    path: Path,
    duration: float,
    progress: Progress,
    share: tuple[float, float] = (0.0, 1.0),
    channels: int | None = None,
) -> Analysis:
    """Loudness, true peak and waveform of the file, in one decode.

    With `channels`, loudness is measured on the mix the renditions will
    have: a stereo master mixed to mono is quieter than either channel
    suggests, and the gain must be right for what listeners hear.
    """
    with _open(path) as container:
        stream = container.streams.audio[0]
        graph = av.filter.Graph()
        chain = [graph.add_abuffer(template=stream)]
        if channels is not None:
            chain.append(_mix(graph, channels))
        chain += [graph.add("ebur128", "peak=true:metadata=1"), graph.add("abuffersink")]
        for a, b in zip(chain, chain[1:]):
            a.link_to(b)
        graph.configure()
        waveform = _Waveform(stream.sample_rate or OPUS_RATE, duration)
        loudness, peak = None, 0.0

        def measured(frames) -> None:  # noqa: ANN001
            nonlocal loudness, peak
            for out in frames:
                meta = out.metadata
                if "lavfi.r128.I" in meta:
                    loudness = float(meta["lavfi.r128.I"])
                peak = max(peak, float(meta.get("lavfi.r128.true_peak", 0.0)))

        decoded = 0
        for frame in _frames(container, duration, progress, share):
            decoded += frame.samples
            waveform.add(frame)
            graph.push(frame)
            measured(_drain(graph))
        graph.push(None)
        measured(_drain(graph))
        waveform.add(None)
    # FFmpeg's decoders skip what they cannot read: a file that is mostly damage decodes "fine" and short.
    seconds = decoded / (stream.sample_rate or OPUS_RATE)
    if seconds < duration * (1 - DAMAGE_TOLERANCE) - 0.1:
        raise MediaError(f"the audio is damaged: only {seconds:.1f} s of its {duration:.1f} s could be decoded")
    # ebur128 reports -70 LUFS (its absolute gate) for silence: there is no loudness to speak of.
    return Analysis(loudness if loudness is not None and loudness > -70 else None, _db(peak), waveform.result())


def _layout(channels: int) -> str:
    return "mono" if channels == 1 else "stereo"


def _mix(graph: av.filter.Graph, channels: int) -> av.filter.FilterContext:
    """The renditions' channel mix, made once in 64-bit float for both passes.

    Made here rather than by each encoder's resampler because FFmpeg scales a
    downmix to integer samples down (-3 dB for stereo to mono) and to float
    not: measured and encoded signals must be the same.
    """
    return graph.add("aformat", f"sample_fmts=dbl:channel_layouts={_layout(channels)}")


def gain_for(analysis: Analysis, settings: EncodeSettings) -> float:
    """The gain (dB) that brings the episode to its target, or 0 where it cannot or need not be measured."""
    if not settings.normalize or analysis.loudness is None:
        return 0.0
    return settings.target_lufs - analysis.loudness


class _Encoder(threading.Thread):
    """One rendition's encoder, in a thread of its own fed through a short queue.

    FFmpeg's encoders run without Python's lock, so MP3 and Opus encode at
    once on two cores while the caller decodes; the queue holds a few frames,
    so memory stays flat. An encoder's error is kept for `finish` to raise.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name=f"encode-{name}", daemon=True)
        self.frames: queue.Queue = queue.Queue(maxsize=ENCODER_QUEUE_FRAMES)
        self.error: BaseException | None = None

    def run(self) -> None:
        while True:
            frame = self.frames.get()
            if frame is _ABANDON:
                return
            if self.error is None:  # after an error, only drain the queue so the caller never blocks
                try:
                    self._encode(frame)
                except BaseException as e:
                    self.error = e
            if frame is None:
                return

    def _encode(self, frame: av.AudioFrame | None) -> None:
        raise NotImplementedError

    def _close(self, abandon: bool) -> None:
        raise NotImplementedError

    def finish(self, abandon: bool) -> None:
        """Wait for the encoder to end (flushed, or abandoned), close its file, raise its error."""
        if self.is_alive():
            self.frames.put(_ABANDON if abandon else None)
            self.join()
        self._close(abandon)
        if self.error is not None and not abandon:
            raise self.error


class _LibraryEncoder(_Encoder):
    """An encoder of the FFmpeg inside PyAV's wheel."""

    def __init__(self, path: Path, codec: str, rate: int, kbps: int, layout: str) -> None:
        super().__init__(codec)
        self.container = av.open(str(path), "w")
        self.stream = cast(av.AudioStream, self.container.add_stream(codec, rate=rate, layout=layout))
        self.stream.bit_rate = kbps * 1000
        # Float input where the encoder takes it: as the ffmpeg command line picks, and no rounding to 16 bits.
        formats = [f.name for f in self.stream.codec_context.codec.audio_formats or ()]
        fmt = next((f for f in ("flt", "fltp") if f in formats), self.stream.codec_context.format.name)
        self.stream.codec_context.format = fmt
        self.resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate)

    def _encode(self, frame: av.AudioFrame | None) -> None:
        for converted in self.resampler.resample(frame):
            self.container.mux(self.stream.encode(converted))
        if frame is None:
            self.container.mux(self.stream.encode(None))

    def _close(self, abandon: bool) -> None:
        self.container.close()


class _CommandLineMp3(_Encoder):
    """The MP3 made by the `ffmpeg` command line, fed the processed samples through a pipe.

    Used where the command line is installed (`ffmpeg_path`): the LAME in
    Debian's FFmpeg encodes about three times faster than the one in PyAV's
    wheel (bench/transcode.py), and the MP3 is the slower of the two files.
    """

    def __init__(self, ffmpeg: str, path: Path, input_rate: int, kbps: int, layout: str, channels: int) -> None:
        super().__init__("mp3-command-line")
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115  (closed with the process)
        self.process = subprocess.Popen(
            [
                ffmpeg,
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "f32le",
                "-ar",
                str(input_rate),
                "-ac",
                str(channels),
                "-i",
                "pipe:0",
                "-c:a",
                "libmp3lame",
                "-b:a",
                f"{kbps}k",
                "-ar",
                str(MP3_RATE),
                "-y",
                str(path),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self.errors,
        )
        self.resampler = av.AudioResampler(format="flt", layout=layout, rate=input_rate)

    def _encode(self, frame: av.AudioFrame | None) -> None:
        stdin = cast(IO[bytes], self.process.stdin)  # opened with stdin=PIPE
        for converted in self.resampler.resample(frame):
            stdin.write(converted.to_ndarray().tobytes())
        if frame is None:
            stdin.close()
            if self.process.wait() != 0:
                self.errors.seek(0)
                raise RuntimeError(f"ffmpeg failed: {self.errors.read(2000).decode(errors='replace').strip()}")

    def _close(self, abandon: bool) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stdin and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
        self.errors.close()


_ABANDON = object()
# Samples per frame handed to the encoders, and frames waiting for each: a few seconds of audio at most.
FRAME_SAMPLES = 16384
ENCODER_QUEUE_FRAMES = 8


def encode(
    path: Path,
    duration: float,
    analysis: Analysis,
    settings: EncodeSettings,
    out_dir: Path,
    progress: Progress,
    share: tuple[float, float] = (0.0, 1.0),
) -> Renditions:
    """An MP3 (the enclosure every app plays) and an Opus file (smaller, for apps that take it), in one decode.

    The gain is applied in 64-bit float, and a limiter holds the peaks under
    the ceiling where the gain would push them over (a quiet interview with a
    loud laugh): the loudness stays on target, the peaks are tamed.
    """
    gain = gain_for(analysis, settings)
    layout = _layout(settings.channels)
    mp3, opus = out_dir / "rendition.mp3", out_dir / "rendition.opus"
    with _open(path) as container:
        stream = container.streams.audio[0]
        graph = av.filter.Graph()
        chain = [
            graph.add_abuffer(template=stream),
            _mix(graph, settings.channels),
            graph.add("volume", f"volume={gain:.3f}dB:precision=double"),
        ]
        if analysis.true_peak is not None and analysis.true_peak + gain > TRUE_PEAK_CEILING_DBTP:
            # alimiter holds sample peaks; 0.5 dB under the ceiling covers the peaks between samples.
            limit = 10 ** ((TRUE_PEAK_CEILING_DBTP - 0.5) / 20)
            chain.append(graph.add("alimiter", f"limit={limit:.4f}:level=false:attack=5:release=50"))
        # Few large frames rather than the decoder's many small ones: the encoders' threads then spend
        # their time in FFmpeg, not in Python's lock.
        chain += [graph.add("asetnsamples", f"nb_out_samples={FRAME_SAMPLES}:pad=0"), graph.add("abuffersink")]
        for a, b in zip(chain, chain[1:]):
            a.link_to(b)
        graph.configure()
        if settings.ffmpeg:
            mp3_encoder: _Encoder = _CommandLineMp3(
                settings.ffmpeg, mp3, stream.codec_context.sample_rate, settings.mp3_kbps, layout, settings.channels
            )
        else:
            mp3_encoder = _LibraryEncoder(mp3, "libmp3lame", MP3_RATE, settings.mp3_kbps, layout)
        outputs = [mp3_encoder, _LibraryEncoder(opus, "libopus", OPUS_RATE, settings.opus_kbps, layout)]
        for output in outputs:
            output.start()
        done = False
        try:
            for frame in _frames(container, duration, progress, share):
                graph.push(frame)
                for out in _drain(graph):
                    for output in outputs:
                        output.frames.put(out)
            graph.push(None)
            for out in _drain(graph):
                for output in outputs:
                    output.frames.put(out)
            done = True
        finally:
            for output in outputs:
                output.finish(abandon=not done)
    return Renditions(mp3, opus, gain)


def waveform_json(analysis: Analysis) -> bytes:
    return json.dumps(analysis.waveform, separators=(",", ":")).encode()
