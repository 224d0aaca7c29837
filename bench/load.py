"""Load benchmark: listeners against the production setup, without and then with producers uploading.

Starts the production setup (docs/production.md) on this machine (nginx with
deploy/nginx.conf in front of gunicorn with gunicorn.conf.py, on SQLite and
the local media folder in a temporary folder) with the demo show, then runs
in the same process:

1. after five seconds of warm-up, the baseline: LISTENERS simulated listeners for --baseline-seconds, each in
   a loop of feed polls (half with If-None-Match, as apps send), episode
   pages and 64 KiB byte ranges of the episode's audio, with a short pause;
2. the same listeners for --seconds while PRODUCERS upload WAV masters of
   --upload-mb one after another through the API.

For each phase and each kind of request it prints requests per second,
p50 and p99 latency and errors. Goal: no errors, and the feed polls' p99
with uploads running at most 2x their p99 without.

    .venv/bin/python bench/load.py [--listeners 200] [--producers 5] [--seconds 60] [--baseline-seconds 30]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures.services import Gunicorn, Nginx, app_environment

SHOW = "cyber-security-coalition"
PAGE = f"/shows/{SHOW}/shaping-belgiums-digital-future/"
FEED = f"/shows/{SHOW}/feed.xml"


def prepare(workdir: Path) -> tuple[dict, str]:
    """A database with the demo show and an admin's API token; returns the config and the token."""
    import flask_migrate

    from podcast_service import create_app
    from podcast_service.accounts import service as accounts

    config = {
        "database_url": f"sqlite:///{workdir / 'podcast.db'}",
        "storage_path": str(workdir / "media"),
        "upload_temp_path": str(workdir / "spools"),
        "base_url": "http://127.0.0.1:8000",
        "secret_key": "bench-only-9c2e7a1f5d3b8046e2c9a7f1d5b3e8a0",
        "log_level": "WARNING",
        "trusted_proxies": 1,
    }
    app = create_app(config)
    with app.app_context():
        flask_migrate.upgrade()
        result = app.test_cli_runner().invoke(args=["import-episodes", str(ROOT / "episodes")])
        assert result.exit_code == 0, result.output
        user = accounts.create_user("bench@example.org", "a bench password", admin=True)
        _token, secret = accounts.create_token(user, "bench", ["read", "write"])
    return config, secret


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)

    def record(self, kind: str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if not ok:
                self.errors[kind] += 1

    def summary(self, seconds: float) -> dict:
        out = {}
        for kind, values in sorted(self.latencies.items()):
            values = sorted(values)
            out[kind] = {
                "requests": len(values),
                "req_per_s": round(len(values) / seconds, 1),
                "p50_ms": round(1000 * statistics.median(values), 1),
                "p99_ms": round(1000 * values[min(len(values) - 1, int(len(values) * 0.99))], 1),
                "errors": self.errors[kind],
            }
        return out


def listener(port: int, audio: str, size: int, stop: threading.Event, rec: Recorder) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    etag = None
    rng = random.Random()
    while not stop.is_set():
        kind = rng.choice(("feed", "feed", "page", "media"))
        headers = {"User-Agent": "bench-listener", "Accept-Encoding": "gzip"}
        path = FEED
        if kind == "feed" and etag and rng.random() < 0.5:
            headers["If-None-Match"] = etag
            kind = "feed_304"
        elif kind == "page":
            path = PAGE
        elif kind == "media":
            start = rng.randrange(0, max(1, size - 65536))
            headers["Range"] = f"bytes={start}-{start + 65535}"
            path = audio
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status in (200, 206, 304)
            if kind == "feed" and ok:
                etag = response.getheader("ETag")
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        rec.record(kind, time.perf_counter() - started, ok)
        stop.wait(rng.uniform(0.2, 0.6))
    conn.close()


def wav(size_mb: int) -> bytes:
    samples = size_mb * 1024 * 1024
    header = (
        b"RIFF"
        + (36 + samples).to_bytes(4, "little")
        + b"WAVEfmt "
        + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little")
        + (2).to_bytes(2, "little")
        + (48000).to_bytes(4, "little")
        + (192000).to_bytes(4, "little")
        + (4).to_bytes(2, "little")
        + (16).to_bytes(2, "little")
        + b"data"
        + samples.to_bytes(4, "little")
    )
    return header + bytes(samples)


def producer(port: int, token: str, master: bytes, stop: threading.Event, rec: Recorder, n: int) -> None:
    count = 0
    while not stop.is_set():
        count += 1
        body = (
            (
                f'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nBench {n}-{count}\r\n'
                '--b\r\nContent-Disposition: form-data; name="audio"; filename="master.wav"\r\n'
                "Content-Type: audio/wav\r\n\r\n"
            ).encode()
            + master
            + b"\r\n--b--\r\n"
        )
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        started = time.perf_counter()
        try:
            conn.request(
                "POST",
                f"/api/v1/shows/{SHOW}/episodes",
                body=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=b"},
            )
            response = conn.getresponse()
            response.read()
            ok = response.status == 201
        except (OSError, http.client.HTTPException):
            ok = False
        finally:
            conn.close()
        rec.record("upload", time.perf_counter() - started, ok)


def run_phase(
    port: int,
    audio: str,
    size: int,
    listeners: int,
    seconds: float,
    producers: int = 0,
    token: str = "",
    master: bytes = b"",
) -> dict:
    rec, stop = Recorder(), threading.Event()
    threads = [threading.Thread(target=listener, args=(port, audio, size, stop, rec)) for _ in range(listeners)]
    threads += [threading.Thread(target=producer, args=(port, token, master, stop, rec, n)) for n in range(producers)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return rec.summary(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=200)
    parser.add_argument("--producers", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--baseline-seconds", type=float, default=30)
    parser.add_argument("--upload-mb", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="podcast-load-") as tmp:
        workdir = Path(tmp)
        config, token = prepare(workdir)
        server = Gunicorn(app_environment(config), workdir, workers=os.cpu_count() * 2 + 1, threads=16)
        server.start()
        proxy = Nginx(f"127.0.0.1:{server.port}", workdir / "nginx")
        proxy.start()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
            conn.request("GET", PAGE)
            page = conn.getresponse().read().decode()
            audio = page.split("<audio", 1)[1].split('src="', 1)[1].split('"', 1)[0].split("8000", 1)[1]
            conn.request("HEAD", audio)
            head = conn.getresponse()
            head.read()
            size = int(head.getheader("Content-Length"))
            conn.close()
            run_phase(proxy.port, audio, size, args.listeners, 5)  # warm-up: workers started, feed cached
            baseline = run_phase(proxy.port, audio, size, args.listeners, args.baseline_seconds)
            loaded = run_phase(
                proxy.port, audio, size, args.listeners, args.seconds, args.producers, token, wav(args.upload_mb)
            )
        finally:
            proxy.stop()
            server.stop()

    ratio = loaded["feed"]["p99_ms"] / baseline["feed"]["p99_ms"]
    errors = sum(k["errors"] for phase in (baseline, loaded) for k in phase.values())
    print(
        json.dumps(
            {
                "listeners": args.listeners,
                "producers": args.producers,
                "without_uploads": baseline,
                "with_uploads": loaded,
                "feed_p99_ratio": round(ratio, 2),
                "errors": errors,
            },
            indent=2,
        )
    )
    for name, phase in (("without uploads", baseline), ("with uploads", loaded)):
        print(f"{name}:")
        for kind, figures in phase.items():
            print(
                f"  {kind:9} {figures['req_per_s']:8} req/s  p50 {figures['p50_ms']:7} ms  "
                f"p99 {figures['p99_ms']:8} ms  errors {figures['errors']}"
            )
    print(f"feed p99 with uploads / without: {ratio:.2f} (goal <= 2); errors: {errors} (goal 0)")


if __name__ == "__main__":
    main()
