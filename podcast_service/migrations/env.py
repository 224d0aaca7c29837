"""Alembic environment, run by `flask --app podcast_service db ...` inside the app.

The engine and metadata come from the app (so migrations use the configured
database URL); logging is left to the app instead of alembic.ini, so running
migrations never reconfigures or silences the service's loggers.
"""

import logging

from alembic import context
from flask import current_app

from podcast_service.catalogue import search

logger = logging.getLogger("alembic.env")
config = context.config
target_db = current_app.extensions["migrate"].db
migrate_config = current_app.extensions["migrate"].configure_args


def run_migrations_offline() -> None:
    """Emit SQL for the configured URL without connecting."""
    context.configure(
        url=target_db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_db.metadata,
        literal_binds=True,
        **migrate_config,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(context, revision, directives):
        """An autogenerate that finds no change writes no empty revision file."""
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    def include_name(name, type_, parent_names) -> bool:
        """The search index is made by hand (an FTS5 table and its shadow tables on SQLite): not a model."""
        return not (type_ == "table" and name and name.startswith(search.TABLE))

    conf_args = dict(migrate_config)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("include_name", include_name)
    with target_db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one; with foreign keys on, that
            # drop would cascade and delete every row referring to it. The pragma only works outside
            # a transaction, so it is set before the migration's one begins, and checked after.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
