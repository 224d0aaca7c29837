"""Real servers for the tests: a SeaweedFS S3 endpoint started for the session, PostgreSQL schemas per test."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import boto3
import psycopg
from botocore.config import Config

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
S3_KEY, S3_SECRET = "test-access-key", "test-secret-key"


def free_ports(n: int) -> list[int]:
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def weed_binary() -> str:
    return shutil.which("weed") or str(Path(sys.executable).parent / "weed")


@dataclass
class SeaweedFS:
    """One `weed server` (master, volume, filer, S3) on free loopback ports, every gRPC port chosen too."""

    workdir: Path
    process: subprocess.Popen | None = None
    log: BinaryIO | None = None
    ports: list[int] = field(default_factory=list)

    @property
    def s3_port(self) -> int:
        return self.ports[6]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=S3_KEY,
                            aws_secret_access_key=S3_SECRET, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}))

    def start(self, timeout: float = 60) -> None:
        """Start, or start again on the same ports and data after stop()."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "data").mkdir(exist_ok=True)
        config = self.workdir / "s3.json"
        config.write_text(
            '{"identities":[{"name":"tests","credentials":[{"accessKey":"%s","secretKey":"%s"}],'
            '"actions":["Admin","Read","Write","List","Tagging"]}]}' % (S3_KEY, S3_SECRET)
        )
        self.ports = self.ports or free_ports(8)
        master, master_g, volume, volume_g, filer, filer_g, s3, s3_g = self.ports
        self.log = log = (self.workdir / "weed.log").open("ab")
        self.process = subprocess.Popen(
            [weed_binary(), "server", f"-dir={self.workdir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             f"-master.port={master}", f"-master.port.grpc={master_g}", "-master.volumeSizeLimitMB=64",
             "-master.telemetry=false",  # a test run sends nothing off this machine
             f"-volume.port={volume}", f"-volume.port.grpc={volume_g}", "-volume.max=0",  # 0: as many as the disk allows
             f"-filer.port={filer}", f"-filer.port.grpc={filer_g}",
             "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_g}", f"-s3.config={config}",
             "-s3.port.iceberg=0", "-s3.port.lance=0"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        probe = f"probe-{uuid.uuid4().hex[:8]}"
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}; see {self.workdir / 'weed.log'}")
            try:
                # Ready means a write goes through: S3 port up and a volume server attached.
                client = self.client()
                client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="ready", Body=b"1")
                client.delete_object(Bucket=probe, Key="ready")
                client.delete_bucket(Bucket=probe)
                return
            except Exception:  # noqa: BLE001 - any failure here means "not ready yet"
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"SeaweedFS did not become ready in {timeout} s") from None
                time.sleep(0.5)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log:
            self.log.close()

    def new_bucket(self) -> str:
        name = f"t-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def drop_bucket(self, name: str) -> None:
        client = self.client()
        for upload in client.list_multipart_uploads(Bucket=name).get("Uploads", []):
            client.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=name, Key=item["Key"])
        client.delete_bucket(Bucket=name)


@contextlib.contextmanager
def postgres_schema():
    """A fresh schema for one test; its URL puts it first on the search path. Dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
