"""Counting behind the production setup: nginx (deploy/nginx.conf) sends the bytes with X-Accel-Redirect,
gunicorn (gunicorn.conf.py) records each request once, and no log or table keeps the listener's address."""

from __future__ import annotations

import http.client
from pathlib import Path

from sqlalchemy import select

from conftest import wait_for
from podcast_service.extensions import db
from podcast_service.models import MediaRequest
from services import Gunicorn, Nginx, app_environment
from test_resilience import accel_demo

# Loopback answers from any 127.x.y.z: a client address that can be looked for everywhere afterwards.
CLIENT = "127.38.211.97"
APPLE = "Podcasts/1555.2.1 CFNetwork/1410.0.3 Darwin/22.6.0"


def ask(port: int, path: str, method: str = "GET", **headers: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15, source_address=(CLIENT, 0))
    try:
        connection.request(method, path, headers={"User-Agent": APPLE, **headers})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_ranged_head_and_full_requests_through_nginx_are_each_recorded_once(tmp_path):
    config, app, path, stored, sha256 = accel_demo(tmp_path)
    size, media = stored.stat().st_size, Path(config["storage_path"])
    server = Gunicorn(app_environment(config), tmp_path)
    server.start()
    proxy = Nginx(f"127.0.0.1:{server.port}", tmp_path / "nginx", media=media)
    proxy.start()
    try:
        assert ask(proxy.port, path, Range="bytes=100-65635")[0] == 206
        assert ask(proxy.port, path, "HEAD")[0] == 200
        status, body = ask(proxy.port, path)
        assert status == 200 and len(body) == size
        assert ask(proxy.port, path, **{"If-None-Match": f'"{sha256}"'})[0] == 304  # nothing delivered

        def recorded():  # noqa: ANN202
            with app.app_context():
                rows = db.session.execute(select(MediaRequest.method, MediaRequest.range_start, MediaRequest.range_end)
                                          .order_by(MediaRequest.id)).all()
                db.session.remove()
            return rows if len(rows) >= 3 else None
        rows = wait_for(recorded, what="three recorded requests", logs=[server])
        assert [tuple(r) for r in rows] == [("GET", 100, 65635), ("HEAD", 0, size - 1), ("GET", 0, size - 1)]
    finally:
        proxy.stop()
        server.stop()
    # The address reached gunicorn (nginx forwards it, trusted_proxies=1), and went nowhere it could stay.
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "access.log" for p in written) and tmp_path / "gunicorn.log" in written
    assert [p for p in written if CLIENT.encode() in p.read_bytes()] == []
