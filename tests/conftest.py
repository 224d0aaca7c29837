"""The suite's options and markers; the fixtures live in tests/fixtures/, registered here as plugins."""

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
