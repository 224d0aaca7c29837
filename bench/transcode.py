"""Transcode benchmark: the audio job's work on a one-hour master against the ffmpeg command line.

Generates a one-hour speech-like master (48 kHz stereo WAV, tests/masters.py's
signal), then, in the same run, on the same file:

1. the service: podcast_service.audio.process.analyse (loudness, true peak,
   waveform) then encode (gain, mono mix, MP3 64 kb/s and Opus 32 kb/s from one
   decode; the MP3 by the ffmpeg command line fed through a pipe, as on a
   worker with `ffmpeg_path`, or with --pyav-only by PyAV's own LAME), in a
   child process whose peak memory growth is read from the kernel (its
   high-water mark VmHWM less the RSS once its modules are loaded);
2. the baseline: Debian's `ffmpeg` command line doing the same work: an ebur128
   pass, then one pass with the same filters writing both files (it draws no
   waveform).

Prints both times, the ratio service/command line (goal: at most 1.2) and the
service's peak memory growth (goal: under 100 MiB).

    .venv/bin/python bench/transcode.py [--minutes 60] [--pyav-only]     # needs ffmpeg: apt-get install ffmpeg
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures.masters import RATE, speechlike

SERVICE = """
import json, sys, time
from pathlib import Path
from podcast_service.media.audio import process
def status_kib(field):  # VmHWM, not ru_maxrss: after fork and exec, ru_maxrss starts at the parent's size
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
master, out, duration = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
import shutil
settings = process.EncodeSettings(mp3_kbps=64, opus_kbps=32, channels=1, normalize=True,
                                  ffmpeg=None if "--pyav-only" in sys.argv else shutil.which("ffmpeg"))
before = status_kib("VmRSS")
started = time.perf_counter()
analysis = process.analyse(master, duration, lambda f: None, channels=1)
made = process.encode(master, duration, analysis, settings, out, lambda f: None)
seconds = time.perf_counter() - started
peak = status_kib("VmHWM")
print(json.dumps({"seconds": seconds, "growth_mib": (peak - before) / 1024, "loudness": analysis.loudness,
                  "gain": made.gain_db, "waveform_points": analysis.waveform["length"]}))
"""


def write_master(path: Path, minutes: int) -> None:
    """A minute of the signal, written `minutes` times: a one-hour file without an hour in memory."""
    minute = (np.clip(speechlike(60.0), -1, 1) * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        for _ in range(minutes):
            w.writeframes(minute)


def command_line(master: Path, out: Path) -> tuple[float, float]:
    started = time.perf_counter()
    measured = subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-nostats",
            "-i",
            str(master),
            "-af",
            "aformat=sample_fmts=dbl:channel_layouts=mono,ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    loudness = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", measured)[-1])
    gain = -19.0 - loudness
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-nostats",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(master),
            "-filter_complex",
            f"[0:a]aformat=sample_fmts=dbl:channel_layouts=mono,volume={gain:.3f}dB:precision=double,asplit=2[m][o]",
            "-map",
            "[m]",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "64k",
            "-ar",
            "44100",
            str(out / "cli.mp3"),
            "-map",
            "[o]",
            "-c:a",
            "libopus",
            "-b:a",
            "32k",
            "-ar",
            "48000",
            str(out / "cli.opus"),
        ],
        check=True,
    )
    return time.perf_counter() - started, loudness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--pyav-only", action="store_true", help="encode the MP3 with PyAV's LAME too")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("bench/transcode.py needs the ffmpeg command line: apt-get install ffmpeg")
    with tempfile.TemporaryDirectory(prefix="transcode-bench-") as tmp:
        work = Path(tmp)
        master = work / "master.wav"
        write_master(master, args.minutes)
        duration = args.minutes * 60.0
        print(f"master: {args.minutes} min, {master.stat().st_size / 1048576:.0f} MiB WAV (48 kHz stereo)")
        cli_seconds, cli_loudness = command_line(master, work)
        extra = ["--pyav-only"] if args.pyav_only else []
        result = subprocess.run(
            [sys.executable, "-c", SERVICE, str(master), str(work), str(duration), *extra],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        service = json.loads(result.stdout)
        print(f"ffmpeg command line  {cli_seconds:7.1f} s   (measured {cli_loudness:.1f} LUFS)")
        print(
            f"service pipeline     {service['seconds']:7.1f} s   (measured {service['loudness']:.1f} LUFS, "
            f"gain {service['gain']:+.1f} dB, waveform of {service['waveform_points']} points)"
        )
        ratio = service["seconds"] / cli_seconds
        print(f"ratio service / command line: {ratio:.2f} (goal <= 1.2)")
        print(f"service peak memory growth: {service['growth_mib']:.1f} MiB (goal < 100)")
        for name in ("rendition.mp3", "rendition.opus", "cli.mp3", "cli.opus"):
            print(f"  {name:15} {(work / name).stat().st_size / 1048576:6.1f} MiB")


if __name__ == "__main__":
    main()
