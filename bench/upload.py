"""Upload benchmark: a 1 GiB file through the service into SeaweedFS, against boto3's own upload_file.

Starts a SeaweedFS server, writes a file of random bytes, then uploads it
alternately (a) through the service's own path (media_change/store_file, the
S3 backend's streamed multipart upload, checksum included) and (b) with
boto3's `upload_file` to the same server, each in a fresh child process so
its peak memory is its own. Prints throughput, the ratio service/boto3, and
each side's peak memory growth over the upload.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures.services import S3_KEY, S3_SECRET, SeaweedFS


def rss_kib() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def child(kind: str, path: Path, endpoint: str, bucket: str, workdir: Path) -> dict:
    """One upload in this process; returns seconds and peak memory growth in MiB."""
    if kind == "service":
        import flask_migrate

        from podcast_service import create_app
        from podcast_service.catalogue.service import media_change

        app = create_app(
            {
                "database_url": f"sqlite:///{workdir / 'bench.db'}",
                "storage_backend": "s3",
                "s3_bucket": bucket,
                "s3_endpoint_url": endpoint,
                "s3_region": "us-east-1",
                "secret_key": "bench-only-9c2e7a1f5d3b8046e2c9a7f1d5b3e8a0",
            }
        )
        with app.app_context():
            flask_migrate.upgrade()
            app.extensions["podcast_stores"].primary.client  # noqa: B018 - build the client before measuring
            before = rss_kib()
            start = time.perf_counter()
            with media_change() as change:
                row = change.store_file(
                    path, kind="audio", extension=".mp3", mime_type="audio/mpeg", download_name="bench.mp3"
                )
            seconds = time.perf_counter() - start
            assert row.size == path.stat().st_size
    else:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", config=Config(s3={"addressing_style": "path"})
        )
        before = rss_kib()
        start = time.perf_counter()
        client.upload_file(str(path), bucket, "baseline/bench.mp3", ExtraArgs={"ContentType": "audio/mpeg"})
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_growth_mib": max(0, peak - before) / 1024}


def write_file(path: Path, size_mib: int) -> None:
    block = os.urandom(16 * 1024 * 1024)
    with path.open("wb") as fh:
        for i in range(size_mib // 16):
            fh.write(i.to_bytes(8, "big") + block[8:])
        fh.write(block[: (size_mib % 16) * 1024 * 1024])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=["service", "boto3"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--bucket", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.file, args.endpoint, args.bucket, args.workdir)))
        return 0

    env = {**os.environ, "AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET}
    with tempfile.TemporaryDirectory(dir=ROOT / "bench") as tmp:
        work = Path(tmp)
        server = SeaweedFS(work / "seaweedfs")
        server.start()
        try:
            bucket = server.new_bucket()
            data = work / "upload.bin"
            write_file(data, args.size_mib)
            size = data.stat().st_size
            results: dict[str, list[dict]] = {"service": [], "boto3": []}
            for _ in range(args.rounds):
                for kind in ("service", "boto3"):
                    proc = subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--child",
                            kind,
                            "--file",
                            str(data),
                            "--endpoint",
                            server.endpoint,
                            "--bucket",
                            bucket,
                            "--workdir",
                            str(work),
                        ],
                        env=env,
                        capture_output=True,
                        text=True,
                    )
                    if proc.returncode:
                        sys.exit(f"{kind} upload failed:\n{proc.stderr}")
                    results[kind].append(json.loads(proc.stdout.strip().splitlines()[-1]))
                    (work / "bench.db").unlink(missing_ok=True)
        finally:
            server.stop()

    def best(kind: str) -> dict:
        return min(results[kind], key=lambda r: r["seconds"])

    service, boto = best("service"), best("boto3")
    mib = size / 2**20
    print(f"file: {mib:.0f} MiB, {args.rounds} rounds each, best round shown")
    print(
        f"service (store_file, S3 multipart): {mib / service['seconds']:7.1f} MiB/s, "
        f"peak memory growth {service['peak_growth_mib']:6.1f} MiB"
    )
    print(
        f"boto3 upload_file (baseline):       {mib / boto['seconds']:7.1f} MiB/s, "
        f"peak memory growth {boto['peak_growth_mib']:6.1f} MiB"
    )
    print(f"throughput ratio service/boto3: {boto['seconds'] / service['seconds']:.2f}  (goal >= 0.8)")
    print(f"service peak memory growth: {service['peak_growth_mib']:.1f} MiB  (goal < 64)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
