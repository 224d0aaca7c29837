"""An installed wheel must carry the templates and migrations it needs at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from fixtures.app import ROOT


def test_wheel_contains_templates_and_migrations(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("podcast_service-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in ("base.html", "web/episode.html", "web/show.html", "web/home.html", "errors/error.html"):
        assert f"podcast_service/templates/{template}" in names
    assert "podcast_service/migrations/env.py" in names
    assert "podcast_service/migrations/versions/0001_initial_schema.py" in names
