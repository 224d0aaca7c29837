"""Real servers for the tests: a SeaweedFS S3 endpoint started for the session, PostgreSQL schemas per test."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
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
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}),
        )

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
            [
                weed_binary(),
                "server",
                f"-dir={self.workdir / 'data'}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-master.port={master}",
                f"-master.port.grpc={master_g}",
                "-master.volumeSizeLimitMB=64",
                "-master.telemetry=false",  # a test run sends nothing off this machine
                f"-volume.port={volume}",
                f"-volume.port.grpc={volume_g}",
                "-volume.max=0",  # 0: as many as the disk allows
                f"-filer.port={filer}",
                f"-filer.port.grpc={filer_g}",
                "-s3",
                f"-s3.port={s3}",
                f"-s3.port.grpc={s3_g}",
                f"-s3.config={config}",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
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
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"SeaweedFS did not become ready in {timeout} s") from None
                time.sleep(0.5)

    def stop(self) -> None:
        _terminate(self.process, 5)
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
        # A thread of the app under test (a live server finishing a request) may still hold a lock the drop
        # waits for while waiting on one the drop took: PostgreSQL cancels one of the two; drop again.
        for attempt in range(3):
            try:
                with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
                break
            except psycopg.errors.DeadlockDetected:
                if attempt == 2:
                    raise


ROOT = Path(__file__).resolve().parent.parent


class TcpProxy:
    """A TCP proxy on a free loopback port that a test can freeze (bytes stop flowing, connections
    stay open, as with a hung server) or stop (new connections refused, open ones cut)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        [self.port] = free_ports(1)
        self.flowing = threading.Event()
        self.flowing.set()
        self.stopped = False
        self._sockets: list[socket.socket] = []
        self._listener = self._listen()
        threading.Thread(target=self._accept, daemon=True).start()

    def _listen(self) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        return listener

    def _accept(self) -> None:
        listener = self._listener
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self.flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def freeze(self) -> None:
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones, as a stopped server does."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close alone would not
        self._listener.close()
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self._sockets.clear()
        self.flowing.set()

    def start(self) -> None:
        self._listener = self._listen()
        threading.Thread(target=self._accept, daemon=True).start()


def _terminate(process: subprocess.Popen | None, timeout: float) -> None:
    """Stop a server process: politely, then for good after `timeout` seconds."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_listening(
    port: int, process: subprocess.Popen, timeout: float, log: Path, stop: Callable[[], None]
) -> None:
    """Return once `port` accepts connections; if the process dies or time runs out, stop it and raise
    with its log."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                stop()
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.1)


@dataclass
class Gunicorn:
    """gunicorn with the repository's gunicorn.conf.py, as the README's production start runs it."""

    env: dict[str, str]
    workdir: Path
    workers: int = 1
    threads: int = 4
    process: subprocess.Popen | None = None
    port: int = 0
    app: str = "podcast_service:create_app()"  # another WSGI app under the same settings: bench/media.py's baseline

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "gunicorn.log"

    def start(self, timeout: float = 30) -> None:
        """Start on a free port, or on the same port again after `stop` (nginx in front still points there)."""
        if not self.port:
            [self.port] = free_ports(1)
        env = {
            **self.env,
            "PODCAST_BIND": f"127.0.0.1:{self.port}",
            "PODCAST_WORKERS": str(self.workers),
            "PODCAST_THREADS": str(self.threads),
        }
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), self.app],
            env=env,
            cwd=self.workdir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        _wait_until_listening(self.port, self.process, timeout, self.workdir / "gunicorn.log", self.stop)

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def stop(self) -> None:
        _terminate(self.process, 30)
        self.log.close()


@dataclass
class Worker:
    """`flask --app podcast_service worker`, the job consumer, as the README starts it."""

    env: dict[str, str]
    workdir: Path
    name: str = "worker"
    threads: int = 1
    process: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self) -> None:
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "podcast_service", "worker", "--threads", str(self.threads)],
            env=self.env,
            cwd=self.workdir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """As the kernel's OOM killer or a lost machine would: no cleanup at all."""
        self.process.kill()
        self.process.wait()
        self.log.close()

    def stop(self) -> None:
        _terminate(self.process, 30)
        self.log.close()


def app_environment(config: dict) -> dict[str, str]:
    """The environment a server process needs to run with a test's app configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODCAST_")}
    env.update(
        {f"PODCAST_{k.upper()}": ",".join(v) if isinstance(v, (list, tuple)) else str(v) for k, v in config.items()}
    )
    return env


@dataclass
class Nginx:
    """Debian's nginx with the repository's deploy/nginx.conf, on a free port, in front of `upstream`."""

    upstream: str  # host:port of gunicorn
    workdir: Path
    media: Path | None = None  # the service's storage_path, for the internal /_media/ location
    extra: str = ""  # more locations for the server block (bench/media.py's static baseline)
    media_log: str = ""  # the service's analytics_log_file, for the media requests nginx answers alone
    process: subprocess.Popen | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        """The shipped site, with this run's addresses and folders put in."""
        site = (ROOT / "deploy" / "nginx.conf").read_text()
        replacements = {
            "server 127.0.0.1:8000;": f"server {self.upstream};",
            "listen 80;": f"listen 127.0.0.1:{self.port};",
            "/var/lib/nginx/body": str(self.workdir / "body"),
            "/var/lib/nginx/proxy": str(self.workdir / "proxy"),
            "alias /srv/podcast/media/;": f"alias {self.media or self.workdir / 'no-media'}/;",
            "root /srv/podcast/media/.published;": f"root {self.media or self.workdir / 'no-media'}/.published;",
            "alias /srv/podcast/media/.published/": f"alias {self.media or self.workdir / 'no-media'}/.published/",
            "/run/podcast/media.log": self.media_log or str(self.workdir / "unread-media.log"),
            "/var/log/nginx/podcast-access.log": str(self.workdir / "access.log"),
        }
        for old, new in replacements.items():
            assert old in site, old
            site = site.replace(old, new)
        if self.extra:
            head, _, tail = site.rpartition("}")
            site = f"{head}{self.extra}\n}}{tail}"
        w = self.workdir
        return (
            f"daemon off;\nuser root;\nworker_processes 1;\npid {w / 'nginx.pid'};\n"
            f"error_log {w / 'error.log'} warn;\nevents {{ worker_connections 512; }}\n"
            f"http {{\n access_log off;\n fastcgi_temp_path {w / 'fastcgi'};\n uwsgi_temp_path {w / 'uwsgi'};\n"
            f" scgi_temp_path {w / 'scgi'};\n{site}\n}}\n"
        )

    def start(self, timeout: float = 15) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        [self.port] = free_ports(1)
        conf = self.workdir / "nginx.conf"
        conf.write_text(self.config())
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen(
            [binary, "-c", str(conf), "-p", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        _wait_until_listening(self.port, self.process, timeout, self.workdir / "error.log", self.stop)

    def stop(self) -> None:
        _terminate(self.process, 10)
