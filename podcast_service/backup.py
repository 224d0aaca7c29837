"""`flask backup DEST` and `flask restore SRC`: a consistent copy of the database and the media it references.

A naive backup (the database, then the media folder) restores episodes whose
files were deleted between the two steps, and files no episode has. Here the
database is read in one snapshot (PostgreSQL: a REPEATABLE READ transaction;
SQLite: a copy made with its online backup API, then read), and exactly the
media objects that snapshot references are copied, each checked against the
SHA-256 its row records. The backup is a folder:

    manifest.json       format, schema revision, row counts, every file with its size and SHA-256
    tables/NAME.jsonl   the rows of each table, one JSON object per line
    media/KEY           every media object, under its storage key

Rows are kept as data, not as a database's own dump format, so a backup of
an SQLite instance restores into PostgreSQL and the other way round. Caches,
sign-in sessions, throttling records and pending hub pings are left out: they
rebuild themselves. Restore goes into an empty instance at the same schema
revision, puts every file into the instance's store (whichever backend it
is), then checks that database and store agree.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Table, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from .catalogue import search
from .core import revision as schema
from .core.errors import PodcastServiceError, StorageError, ValidationError
from .core.extensions import db
from .core.private_files import open_private, private_folder
from .media.storage import Stores
from .media.storage import check as consistency
from .models import UTCDateTime, utcnow

FORMAT = "podcast-service-backup/1"
# Rebuilt by the service itself, or meaningful only while a process runs: not backed up.
SKIPPED = {
    "cached_feeds",
    "user_sessions",
    "login_failures",
    "announcements",
    "run_locks",
    "alembic_version",
    "media_requests",
    "analytics_salts",
}  # raw requests and their salt live a day, never copied
CHUNK = 1024 * 1024


class BackupError(PodcastServiceError):
    pass


def _tables() -> list[Table]:
    """The tables to keep, parents before children (the order restore inserts them in)."""
    return [t for t in db.metadata.sorted_tables if t.name not in SKIPPED]


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    for column in table.columns:
        value = row.get(column.name)
        if isinstance(value, str) and isinstance(column.type, (DateTime, UTCDateTime)):
            row[column.name] = datetime.fromisoformat(value)
    return row


def _python_type(column: Any) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


@contextmanager
def _snapshot() -> Iterator[Connection]:
    """A connection that sees the database as of one moment for as long as it is open."""
    url = make_url(db.engine.url)
    if url.get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "snapshot.sqlite"
            source = sqlite3.connect(url.database or "")
            target = sqlite3.connect(copy)
            try:
                source.backup(target)  # SQLite's online backup: a consistent copy while others write
            finally:
                target.close()
                source.close()
            engine = create_engine(f"sqlite:///{copy}")
            try:
                with engine.connect() as connection:
                    yield connection
            finally:
                engine.dispose()
        return
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, connection.begin():
        yield connection


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def backup(stores: Stores, dest: Path) -> dict[str, Any]:
    """Write a backup into `dest` (which must not exist or be empty); returns its manifest."""
    if dest.exists() and any(dest.iterdir()):
        raise ValidationError(f"{dest} is not empty; back up into a new folder")
    state = schema.state()
    if not state.ok:
        raise ValidationError(state.problem())
    private_folder(dest / "tables")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "schema": state.current,
        "tables": {},
        "files": [],
    }
    with _snapshot() as connection:
        for table in _tables():
            count = 0
            with open_private(dest / "tables" / f"{table.name}.jsonl", encoding="utf-8") as out:
                for row in connection.execute(select(table).order_by(*table.primary_key.columns)).mappings():
                    out.write(json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
                    count += 1
            manifest["tables"][table.name] = count
        media = db.metadata.tables["media_files"]
        rows = connection.execute(
            select(media.c.key, media.c.backend, media.c.size, media.c.sha256).order_by(media.c.id)
        ).all()
    vanished = []
    for key, backend, size, sha256 in rows:
        target = dest / "media" / key
        private_folder(target.parent)
        digest, copied = hashlib.sha256(), 0
        try:
            with stores[backend].open(key) as source, open_private(target, "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    copied += len(chunk)
                    out.write(chunk)
        except StorageError:
            vanished.append(key)
            target.unlink(missing_ok=True)
            continue
        if (copied, digest.hexdigest()) != (size, sha256):
            raise BackupError(
                f"{key} in the {backend} store does not match its recorded size and SHA-256; "
                "run `flask storage-check` and back up again"
            )
        manifest["files"].append({"key": key, "size": size, "sha256": sha256})
    if vanished:
        raise BackupError(
            f"{len(vanished)} files were deleted while the backup ran (first: {vanished[0]}); "
            "run the backup again into a new folder"
        )
    for table in manifest["tables"]:
        path = dest / "tables" / f"{table}.jsonl"
        manifest.setdefault("table_files", {})[table] = _sha256_of(path)
    with open_private(dest / "manifest.json") as out:
        out.write(json.dumps(manifest, indent=2))
    return manifest


def _read_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((src / "manifest.json").read_text())
    except (OSError, ValueError) as e:
        raise ValidationError(f"{src} is not a backup: manifest.json cannot be read ({e})") from None
    if manifest.get("format") != FORMAT:
        raise ValidationError(f"{src} is a backup of an unknown format {manifest.get('format')!r}")
    return manifest


def verify(src: Path) -> dict[str, Any]:
    """Check every file of a backup against its manifest before anything is restored."""
    manifest = _read_manifest(src)
    for table, sha256 in manifest["table_files"].items():
        if _sha256_of(src / "tables" / f"{table}.jsonl") != sha256:
            raise ValidationError(f"the backup's table {table} does not match its manifest: the backup is damaged")
    for entry in manifest["files"]:
        path = src / "media" / entry["key"]
        if not path.is_file() or path.stat().st_size != entry["size"] or _sha256_of(path) != entry["sha256"]:
            raise ValidationError(f"the backup's file {entry['key']} is missing or damaged")
    return manifest


def _empty(connection: Connection) -> bool:
    return all(connection.execute(select(func.count()).select_from(t)).scalar() == 0 for t in _tables())


def restore(stores: Stores, src: Path) -> consistency.Report:
    """Restore a verified backup into this empty instance; returns the store check made afterwards."""
    manifest = verify(src)
    state = schema.state()
    if state.current != manifest["schema"]:
        raise ValidationError(
            f"the backup is of schema {manifest['schema']} but this database is at "
            f"{state.current or 'no schema'}; run `{schema.UPGRADE}` with the version of "
            "the service that made the backup"
        )
    store = stores.primary
    with db.engine.begin() as connection:
        if not _empty(connection):
            raise ValidationError("this instance already holds shows, episodes or users; restore into an empty one")
    uploaded = []
    try:
        for entry in manifest["files"]:
            with (src / "media" / entry["key"]).open("rb") as fh:
                stored = store.put(entry["key"], fh, content_type="application/octet-stream")
            uploaded.append(entry["key"])
            if (stored.size, stored.sha256) != (entry["size"], entry["sha256"]):
                raise BackupError(f"{entry['key']} changed on its way into the store")
        with db.engine.begin() as connection:
            for table in _tables():
                _insert_rows(connection, table, src / "tables" / f"{table.name}.jsonl", store.name)
            _reset_sequences(connection)
            search.reindex(connection)  # rows went in without the ORM, whose hook keeps the index
    except BaseException:
        for key in uploaded:
            store.delete(key)
        raise
    return consistency.check(store)


def _insert_rows(connection: Connection, table: Table, path: Path, backend: str) -> None:
    batch: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as rows:
        for line in rows:
            row = _decode(table, json.loads(line))
            if table.name == "media_files":
                row["backend"] = backend  # every file now lives in this instance's store
            batch.append(row)
            if len(batch) == 500:
                connection.execute(insert(table), batch)
                batch = []
    if batch:
        connection.execute(insert(table), batch)


def _reset_sequences(connection: Connection) -> None:
    """PostgreSQL hands out ids from sequences, which rows inserted with their ids did not advance."""
    if connection.dialect.name != "postgresql":
        return
    for table in _tables():
        [column, *more] = table.primary_key.columns
        if not more and _python_type(column) is int:  # tables without a sequence get NULL, which setval ignores
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT max({column.name}) FROM {table.name}), 0) + 1, false)"
                )
            )
