"""The suite's options and markers; the fixtures live in tests/fixtures/, registered here as plugins.

Markers (pyproject.toml) say what a test starts: `servers` (gunicorn, nginx, SeaweedFS or other
processes of the service), `browser` (Chromium), `workers` (job workers). A module that starts them
itself says so with `pytestmark`; a test that uses a fixture starting them is marked here.
`make check` runs what has none of them.
"""

from __future__ import annotations

STACKS = ("sqlite-local", "postgres-s3")

pytest_plugins = [
    "fixtures.app",
    "fixtures.analytics",
    "fixtures.api",
    "fixtures.browser",
    "fixtures.counting",
    "fixtures.feeds",
    "fixtures.masters",
    "fixtures.old_host",
    "fixtures.production",
]


def pytest_addoption(parser):
    parser.addoption(
        "--stack", choices=STACKS, default="sqlite-local", help="database and media store every app fixture uses"
    )


def pytest_report_header(config):
    return f"stack: {config.getoption('stack')}"


# Fixtures that start something, and the marker a test using them gets.
STARTS = {
    "chromium": "browser",
    "page": "browser",
    "live_demo": "servers",
    "accel_demo": "servers",
    "old_host": "servers",
    "seaweedfs": "servers",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for name in set(getattr(item, "fixturenames", ())) & STARTS.keys():
            item.add_marker(STARTS[name])
