"""Extension objects, created unbound and attached to an app by create_app."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import CursorResult, Executable, MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so Alembic can alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
# Migrations ship inside the package so an installed wheel can still upgrade its database.
migrate = Migrate(directory=str(Path(__file__).parent.parent / "migrations"), render_as_batch=True)
# Producers' sessions (the admin blueprint) and CSRF tokens on every form that uses them.
login_manager = LoginManager()
csrf = CSRFProtect()


def rows_changed(statement: Executable) -> int:
    """Run an UPDATE or DELETE in the current session: how many rows it changed."""
    return cast(CursorResult, db.session.execute(statement)).rowcount
