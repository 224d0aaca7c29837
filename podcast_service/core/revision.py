"""Whether the database's schema is the one this code expects: for /healthz and for every CLI command.

A database whose migrations were never applied answers `SELECT 1` but fails
every page; these checks name the fix (`flask db upgrade`) instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from .extensions import db, migrate

UPGRADE = "flask --app podcast_service db upgrade"


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str

    @property
    def ok(self) -> bool:
        return self.current == self.head

    def problem(self) -> str:
        if self.current is None:
            return f"the database has no schema yet: create it with `{UPGRADE}`"
        return f"the database schema is at {self.current}, this code needs {self.head}: run `{UPGRADE}`"


def head_revision() -> str:
    return ScriptDirectory(migrate.directory).get_current_head() or ""


def state() -> SchemaState:
    """The schema's revision against the code's; connects to the database (and raises if it cannot)."""
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return SchemaState(current, head_revision())


def connection_problem(database_url: str, error: Exception) -> str:
    """One line for a database that cannot be used: what the driver said, the URL (without its password), the
    setting to fix."""
    cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    shown = make_url(database_url).render_as_string(hide_password=True)
    fix = "create it (createdb NAME), or " if "does not exist" in cause else ""
    return (
        f"cannot use the database at {shown}: {cause}. Check that it is running and reachable, then {fix}"
        "fix database_url (config.toml or PODCAST_DATABASE_URL)"
    )


def sqlite_file(database_url: str) -> Path | None:
    """The file of an SQLite URL (None for another database, or an in-memory one)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def missing_sqlite_file(database_url: str) -> Path | None:
    """The file of an SQLite URL when it does not exist: connecting would silently create it empty."""
    path = sqlite_file(database_url)
    return None if path is None or path.exists() else path
