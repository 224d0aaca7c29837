"""Files and folders that hold secrets, readable by the service's user alone, whatever the umask.

The SQLite database and job queue (password and token hashes, subscribers), and backups (the same, plus the
audio of drafts and private shows) are created 0600, in folders created 0700. What exists already keeps the
mode its operator gave it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """`path` as a folder; it and any missing parent are created 0700."""
    if not path.is_dir():
        private_folder(path.parent)
        path.mkdir(mode=FOLDER_MODE, exist_ok=True)
        os.chmod(path, FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path` as a file; created empty and 0600 (its folder 0700) if it was missing."""
    private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    return path


def restrict_new_file(path: Path) -> None:
    """Make a file that was just created, still empty, 0600 (SQLite creates its database as the umask says)."""
    if path.stat().st_size == 0:
        os.chmod(path, FILE_MODE)


def open_private(path: Path, mode: str = "w", **options: Any) -> IO[Any]:
    """`path` opened for writing ("w" or "wb"), truncated, and 0600 whether it was there before or not."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, mode, **options)
