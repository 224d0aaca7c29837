"""Load benchmark: listeners against the production setup, without and then with producers uploading.

Starts the production setup of docs/production.md on this machine, on either stack:
nginx with deploy/nginx.conf (sending feeds and audio alone from what the
service leaves it, and reporting the audio it sends in `analytics_log_file`),
gunicorn with gunicorn.conf.py, and a job worker encoding the masters;
`sqlite-local` on SQLite, the local media folder and the SQLite queue,
`postgres-s3` on PostgreSQL (127.0.0.1:5432), a SeaweedFS of its own and
Redis (127.0.0.1:6379, database 15). With the demo show, it runs:

1. after five seconds of warm-up, the baseline: LISTENERS simulated listeners for --baseline-seconds, each in
   a loop of feed polls (half with If-None-Match, as apps send), episode
   pages and 64 KiB byte ranges of the episode's audio, with a short pause;
2. the same listeners for --seconds while PRODUCERS upload WAV masters of
   --upload-mb one after another through the API, each over a line of
   --upload-mbps, each published at once (so each changes the feed);
3. once the worker has encoded every accepted master, each new episode's
   MP3 is fetched through nginx and its length compared with the master's.

For each phase and each kind of request it prints requests per second,
p50 and p99 latency and errors, and how many feed polls and audio ranges
reached gunicorn at all. Goal: no errors, every upload verified, and the feed
polls' p99 with uploads at most 2x their p99 without.

    .venv/bin/python bench/load.py [--stack sqlite-local|postgres-s3] [--listeners 150] [--producers 4]
                                   [--seconds 60] [--baseline-seconds 30] [--upload-mb 20] [--upload-mbps 100]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures.services import (
    S3_KEY,
    S3_SECRET,
    Gunicorn,
    Nginx,
    SeaweedFS,
    Worker,
    app_environment,
    postgres_schema,
)

SHOW = "cyber-security-coalition"
PAGE = f"/shows/{SHOW}/shaping-belgiums-digital-future/"
FEED = f"/shows/{SHOW}/feed.xml"
BASE_URL = "http://127.0.0.1:8000"
REDIS_URL = "redis://127.0.0.1:6379/15"
WAV_BYTES_PER_SECOND = 192000  # 48 kHz, 16-bit stereo


@contextlib.contextmanager
def stack(name: str, workdir: Path) -> Iterator[dict]:
    """The settings of one stack, with its servers running for as long as the block lasts."""
    config = {
        "storage_path": str(workdir / "media"),  # the local store, and the feed files nginx sends on either stack
        "upload_temp_path": str(workdir / "spools"),
        "base_url": BASE_URL,
        "secret_key": "bench-only-9c2e7a1f5d3b8046e2c9a7f1d5b3e8a0",
        "log_level": "WARNING",
        "trusted_proxies": 1,
        "accel_redirect": "/_media",
        "analytics_log_file": str(workdir / "media.log"),
    }
    if name == "sqlite-local":
        config.update(database_url=f"sqlite:///{workdir / 'podcast.db'}", queue_url=f"sqlite:///{workdir / 'queue.db'}")
        yield config
        return
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    os.environ.update(AWS_ACCESS_KEY_ID=S3_KEY, AWS_SECRET_ACCESS_KEY=S3_SECRET)
    store = SeaweedFS(workdir / "seaweedfs")
    store.start()
    try:
        with postgres_schema() as url:
            config.update(
                database_url=url,
                storage_backend="s3",
                s3_bucket=store.new_bucket(),
                s3_endpoint_url=store.endpoint,
                s3_region="us-east-1",
                queue_url=REDIS_URL,
            )
            yield config
    finally:
        store.stop()


def prepare(config: dict) -> str:
    """The demo show and an admin's API token in the stack's database; returns the token."""
    import flask_migrate

    from podcast_service import create_app
    from podcast_service.accounts import service as accounts
    from podcast_service.core.extensions import db

    app = create_app({**config, "jobs_immediate": True})
    with app.app_context():
        flask_migrate.upgrade()
        result = app.test_cli_runner().invoke(args=["import-episodes", str(ROOT / "episodes")])
        assert result.exit_code == 0, result.output
        user = accounts.create_user("bench@example.org", "a bench password", admin=True)
        _token, secret = accounts.create_token(user, "bench", ["read", "write"])
        db.session.remove()
        db.engine.dispose()
    return secret


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
            status = response.status
            if status == 302:  # the S3 store's presigned URL: the app fetches the bytes from there
                status, _ = from_store(response.getheader("Location"), headers)
            ok = status in (200, 206, 304)
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


def paced(body: bytes, mbps: float) -> Iterator[bytes]:
    """The body in 1 MiB pieces at `mbps` megabits a second, as a producer's line sends it."""
    started = time.monotonic()
    for offset in range(0, len(body), 1 << 20):
        yield body[offset : offset + (1 << 20)]
        time.sleep(max(0.0, started + (offset + (1 << 20)) * 8 / (mbps * 1e6) - time.monotonic()))


def producer(
    port: int, token: str, master: bytes, mbps: float, stop: threading.Event, rec: Recorder, made: list[int]
) -> None:
    """Uploads one master after another until stopped, each published at once; the ids of the episodes made
    go to `made`."""
    while not stop.is_set():
        title = f"Bench upload {uuid.uuid4().hex[:8]}".encode()
        body = (
            (
                b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\n' + title + b"\r\n"
                b'--b\r\nContent-Disposition: form-data; name="status"\r\n\r\npublished\r\n'
                b'--b\r\nContent-Disposition: form-data; name="audio"; filename="master.wav"\r\n'
                b"Content-Type: audio/wav\r\n\r\n"
            )
            + master
            + b"\r\n--b--\r\n"
        )
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        started = time.perf_counter()
        try:
            conn.request(
                "POST",
                f"/api/v1/shows/{SHOW}/episodes",
                body=paced(body, mbps),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "multipart/form-data; boundary=b",
                    "Content-Length": str(len(body)),
                },
            )
            response = conn.getresponse()
            answer = response.read()
            ok = response.status == 201
            if ok:
                made.append(json.loads(answer)["id"])
        except (OSError, http.client.HTTPException):
            ok = False
        finally:
            conn.close()
        rec.record("upload", time.perf_counter() - started, ok)


def run_phase(port: int, audio: str, size: int, listeners: int, seconds: float, producers: int = 0, **upload) -> dict:
    rec, stop = Recorder(), threading.Event()
    threads = [threading.Thread(target=listener, args=(port, audio, size, stop, rec)) for _ in range(listeners)]
    threads += [
        threading.Thread(
            target=producer,
            args=(port, upload["token"], upload["master"], upload["mbps"], stop, rec, upload["made"]),
        )
        for _ in range(producers)
    ]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return rec.summary(seconds)


def from_store(location: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(location, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read()


def get(port: int, path: str, **headers: str) -> tuple[int, bytes]:
    """A GET through nginx, on to the store where the service redirects."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status == 302:
            return from_store(response.getheader("Location"), headers)
        return response.status, body
    finally:
        conn.close()


def verify(port: int, token: str, made: list[int], seconds_of_audio: float, wait_seconds: float) -> dict:
    """Waits for the worker to finish every accepted upload, then checks each episode's MP3 from nginx: its
    length, decoded by mutagen, is the master's."""
    from mutagen.mp3 import MP3

    auth = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + wait_seconds
    states: dict[int, dict] = {}
    while time.monotonic() < deadline:
        for episode_id in made:
            status, body = get(port, f"/api/v1/shows/{SHOW}/episodes/{episode_id}", **auth)
            states[episode_id] = json.loads(body) if status == 200 else {"audio": {"state": f"HTTP {status}"}}
        if all(
            e["audio"]["state"] in ("ready", "failed")
            and (e["audio"]["job"] or {}).get("state") not in ("queued", "running")
            for e in states.values()
        ):
            break
        time.sleep(2)
    verified, problems = 0, []
    for episode_id, episode in states.items():
        url = episode.get("audio_url") or ""
        if episode["audio"]["state"] != "ready" or not url.endswith(".mp3"):
            problems.append(f"episode {episode_id}: {episode['audio']}")
            continue
        status, data = get(port, url.removeprefix(BASE_URL))
        length = MP3(io.BytesIO(data)).info.length if status == 200 else -1
        if abs(length - seconds_of_audio) <= 0.1:
            verified += 1
        else:
            problems.append(f"{url}: HTTP {status}, {length:.2f} s against {seconds_of_audio:.2f} s")
    return {"accepted": len(made), "verified": verified, "problems": problems}


def reached_gunicorn(log: Path, offset: int, audio: str) -> tuple[dict, int]:
    """How many feed polls and audio requests gunicorn answered since `offset` in its log (nginx sent the rest)."""
    with log.open("rb") as fh:
        fh.seek(offset)
        lines = fh.read().decode(errors="replace").splitlines()
        end = fh.tell()
    return {
        "feed": sum(f' {FEED}"' in line for line in lines),
        "media": sum(f' {audio}"' in line for line in lines),
    }, end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", choices=("sqlite-local", "postgres-s3"), default="sqlite-local")
    parser.add_argument("--listeners", type=int, default=150)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--baseline-seconds", type=float, default=30)
    parser.add_argument("--upload-mb", type=int, default=20)
    parser.add_argument("--upload-mbps", type=float, default=100, help="each producer's line, in megabits/s")
    parser.add_argument("--encode-wait-seconds", type=float, default=1800)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="podcast-load-") as tmp, stack(args.stack, Path(tmp)) as config:
        workdir = Path(tmp)
        token = prepare(config)
        environment = app_environment(config)
        server = Gunicorn(environment, workdir, workers=os.cpu_count() * 2 + 1, threads=16)
        server.start()
        worker = Worker(environment, workdir)
        worker.start()
        proxy = Nginx(
            f"127.0.0.1:{server.port}",
            workdir / "nginx",
            media=workdir / "media",
            media_log=config["analytics_log_file"],
        )
        proxy.start()
        try:
            status, page = get(proxy.port, PAGE)
            audio = page.decode().split("<audio", 1)[1].split('src="', 1)[1].split('"', 1)[0].removeprefix(BASE_URL)
            size = int(re.search(rb'<enclosure [^>]*length="(\d+)"', get(proxy.port, FEED)[1]).group(1))
            run_phase(proxy.port, audio, size, args.listeners, 5)  # warm-up: workers started, feed files left
            _, offset = reached_gunicorn(server.log_path, 0, audio)
            baseline = run_phase(proxy.port, audio, size, args.listeners, args.baseline_seconds)
            baseline_reached, offset = reached_gunicorn(server.log_path, offset, audio)
            made: list[int] = []
            master = wav(args.upload_mb)
            loaded = run_phase(
                proxy.port,
                audio,
                size,
                args.listeners,
                args.seconds,
                args.producers,
                token=token,
                master=master,
                mbps=args.upload_mbps,
                made=made,
            )
            loaded_reached, offset = reached_gunicorn(server.log_path, offset, audio)
            uploads = verify(
                proxy.port, token, made, (len(master) - 44) / WAV_BYTES_PER_SECOND, args.encode_wait_seconds
            )
        finally:
            proxy.stop()
            worker.stop()
            server.stop()

    ratio = loaded["feed"]["p99_ms"] / baseline["feed"]["p99_ms"]
    errors = sum(k["errors"] for phase in (baseline, loaded) for k in phase.values())
    print(
        json.dumps(
            {
                "stack": args.stack,
                "listeners": args.listeners,
                "producers": args.producers,
                "without_uploads": {**baseline, "reached_gunicorn": baseline_reached},
                "with_uploads": {**loaded, "reached_gunicorn": loaded_reached},
                "uploads": uploads,
                "feed_p99_ratio": round(ratio, 2),
                "errors": errors,
            },
            indent=2,
        )
    )
    for name, phase, reached in (
        ("without uploads", baseline, baseline_reached),
        ("with uploads", loaded, loaded_reached),
    ):
        print(f"{name}:")
        for kind, figures in phase.items():
            print(
                f"  {kind:9} {figures['req_per_s']:8} req/s  p50 {figures['p50_ms']:7} ms  "
                f"p99 {figures['p99_ms']:8} ms  errors {figures['errors']}"
            )
        print(f"  reached gunicorn: {reached['feed']} feed polls, {reached['media']} audio requests")
    print(f"uploads: {uploads['verified']} of {uploads['accepted']} accepted verified end to end")
    print(f"feed p99 with uploads / without: {ratio:.2f} (goal <= 2); errors: {errors} (goal 0)")


if __name__ == "__main__":
    main()
