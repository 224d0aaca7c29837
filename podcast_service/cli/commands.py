"""Commands for `flask --app podcast_service ...`, registered by create_app."""

from __future__ import annotations

import copy
import functools
import itertools
import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from .. import backup, jobs
from ..accounts import service as accounts
from ..catalogue.service import stores
from ..core import locks as run_locks
from ..core import revision as schema
from ..core import spools
from ..core.errors import PodcastServiceError
from ..core.extensions import db
from ..core.settings import NO_SECRET_KEY, STORAGE_BACKENDS, current_settings
from ..feed import announce
from ..imports.folders import Outcome, import_folder
from ..imports.progress import Progress
from ..imports.run import NothingImported, import_feed
from ..media.storage import Storage
from ..media.storage import check as consistency
from ..media.storage import migrate as storage_migration
from . import producers as producer_commands


@click.command("import-episodes")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_episodes(folder: Path) -> None:
    """Import the show in FOLDER/show.toml and each episode folder beside it.

    Safe to run again: unchanged folders are skipped, edited ones update their
    episode. Exits with status 1 if any folder could not be imported.
    """
    with run_locks.held("import-episodes"):
        try:
            results = import_folder(folder)
        except PodcastServiceError as e:
            raise click.ClickException(f"{folder}: {e}") from None
    failed = 0
    for result in results:
        line = f"{result.outcome.value:>9}  {result.source}"
        if result.outcome is Outcome.FAILED:
            failed += 1
            click.secho(f"{line}: {result.message}", fg="red", err=True)
        else:
            click.echo(line)
    counts = {o: sum(r.outcome is o for r in results) for o in Outcome}
    click.echo(", ".join(f"{n} {o.value}" for o, n in counts.items()))
    if failed:
        raise click.exceptions.Exit(1)


@click.command("storage-check")
@click.option("--fix", is_flag=True, help="Delete orphaned objects and abort abandoned uploads.")
@click.option(
    "--grace-minutes",
    type=click.IntRange(min=0),
    default=60,
    show_default=True,
    help="Uploads begun and objects stored more recently may belong to a save still running: left alone.",
)
def storage_check(fix: bool, grace_minutes: int) -> None:
    """List objects without a row and rows without an object, in every configured store, and spools
    (upload_temp_path) that a killed process left behind.

    Exits with status 1 while anything is out of step (after --fix: while rows
    still lack their object, which needs a producer to re-upload).
    """
    grace = timedelta(minutes=grace_minutes)
    clean = True
    for store in stores():
        clean &= _check_store(store, fix, grace)
    clean &= _check_spools(fix)
    if not clean:
        raise click.exceptions.Exit(1)


def _check_spools(fix: bool) -> bool:
    """Upload and import spools that a killed process left in upload_temp_path: any whose lock has gone with
    its process, however young (no grace: the lock tells)."""
    folder = current_settings().upload_temp_path
    found = spools.abandoned(folder)
    for spool in found:
        click.echo(
            f"spools: abandoned {spool.path.name} ({spool.size} bytes, "
            f"{int(spool.age.total_seconds() // 60)} minutes old)"
        )
    if fix and found:
        removed = spools.remove_abandoned(folder)
        click.echo(f"spools: removed {len(removed)} abandoned spools")
        return True
    if not found:
        click.echo("spools: none abandoned")
    return not found


def _check_store(store: Storage, fix: bool, grace: timedelta) -> bool:
    report = consistency.check(store, grace)
    for key in report.orphaned_objects:
        click.echo(f"{store.name}: object without a row: {key}")
    for key in report.missing_objects:
        click.echo(f"{store.name}: row without an object: {key}")
    for upload in report.abandoned_uploads:
        click.echo(
            f"{store.name}: abandoned upload: {upload.key} "
            f"({upload.upload_id}, begun {upload.started:%Y-%m-%d %H:%M} UTC)"
        )
    if fix:
        consistency.fix(store, report)
        click.echo(
            f"{store.name}: removed {len(report.orphaned_objects)} orphaned objects, "
            f"aborted {len(report.abandoned_uploads)} abandoned uploads"
        )
        report = consistency.check(store, grace)
    if report.clean:
        click.echo(f"{store.name}: storage and database agree")
    return report.clean


@click.command("storage-migrate")
@click.option("--to", "target", required=True, type=click.Choice(STORAGE_BACKENDS), help="Backend to move media to.")
@click.option("--keep-source", is_flag=True, help="Leave each original in place after it is copied.")
def storage_migrate(target: str, keep_source: bool) -> None:
    """Move every media file to the backend TO, one verified file at a time.

    Safe to interrupt and run again: it carries on where it stopped. Set
    storage_backend to TO afterwards (or before: new uploads then go there too).
    """
    with run_locks.held("storage-migrate"):
        remaining = len(storage_migration.pending(target))
        click.echo(f"{remaining} files to move to {target}")
        for done, row in enumerate(storage_migration.migrate(stores(), target, keep_source=keep_source), 1):
            click.echo(f"[{done}/{remaining}] {row.key} ({row.size} bytes)")
    click.echo(f"all media is on {target}")


@click.command("import-feed")
@click.argument("source")
@click.option("--slug", help="Slug of the show here (default: made from the feed's title).")
@click.option(
    "--category",
    "categories",
    multiple=True,
    help="Apple category such as 'Technology' or 'News > Tech News', when the feed names none.",
)
@click.option("--owner", "owner_user", help="E-mail of a user here to make owner of the show.")
@click.option("--owner-email", help="The show's owner e-mail, when the feed names none (itunes:owner).")
@click.option(
    "--into-existing",
    is_flag=True,
    help="Add the feed's episodes to the existing show with this slug, made here or from another feed.",
)
@click.option(
    "--override-lock",
    is_flag=True,
    help="Import a feed marked podcast:locked yes: only for its owner, who could not unlock it.",
)
def import_feed_command(
    source: str,
    slug: str | None,
    categories: tuple[str, ...],
    owner_user: str | None,
    owner_email: str | None,
    into_existing: bool,
    override_lock: bool,
) -> None:
    """Import a podcast from another host: SOURCE is its RSS feed's URL or a file.

    Episodes keep their guids and dates. Run it again to fetch only new ones:
    the show's settings stay as its producers set them. It never writes into
    a show that was not imported from this feed unless --into-existing says so,
    and refuses a feed its owner locked (podcast:locked) unless --override-lock.
    A first import that brings no episode over leaves no show behind.
    Exits with status 1 if any episode could not be imported.
    """
    with run_locks.held("import-feed"):
        # What an earlier run killed midway left on disk goes first; its episodes stay, and are skipped.
        spools.remove_abandoned(current_settings().upload_temp_path)
        owner = accounts.find_user(owner_user) if owner_user else None
        with Progress() as progress:
            try:
                show = import_feed(
                    source,
                    progress,
                    slug=slug,
                    categories=list(categories) or None,
                    into_existing=into_existing,
                    owner_email=owner_email,
                    override_lock=override_lock,
                )
            except NothingImported as e:
                click.secho(str(e), fg="red", err=True)
                raise click.exceptions.Exit(1) from None
        if owner is not None:
            accounts.set_member(show, owner, "owner")
    click.echo(progress.summary())
    if progress.counts["failed"]:
        raise click.exceptions.Exit(1)


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def backup_command(dest: Path) -> None:
    """Write a consistent backup into the new folder DEST: every table's rows as of one moment and every
    media file those rows reference, with checksums in DEST/manifest.json."""
    with run_locks.held("backup"):
        manifest = backup.backup(stores(), dest)
    click.echo(
        f"backed up {sum(manifest['tables'].values())} rows and {len(manifest['files'])} files "
        f"({sum(f['size'] for f in manifest['files'])} bytes) into {dest}"
    )


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(src: Path) -> None:
    """Restore the backup in SRC into this empty instance (run `db upgrade` first), then check that
    database and store agree. Every file is checked against the manifest before anything is written."""
    with run_locks.held("restore"):
        report = backup.restore(stores(), src)
    if not report.clean:
        raise click.ClickException(
            f"restored, but the store disagrees with the database: "
            f"{len(report.missing_objects)} missing, {len(report.orphaned_objects)} extra; "
            "see `flask storage-check`"
        )
    click.echo(f"restored {src}; database and store agree")


@click.command("announce")
def announce_command() -> None:
    """Send the due notices to WebSub hubs and pubnotify URLs now.

    Web processes do this by themselves in the background; this is for a
    deployment whose changes come only from the CLI, run from cron.
    """
    next_due = announce.run_due()
    click.echo(f"next announcement due at {next_due.isoformat()}" if next_due else "no announcement queued")


@click.command("worker")
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Jobs run at once in this process: with two, a hub ping never waits behind an encode "
    "(an audio job keeps one core busy).",
)
def worker_command(threads: int) -> None:
    """Run queued jobs (audio encoding, sweeps) until stopped with Ctrl-C or SIGTERM.

    Start as many as there are cores to spare, on this machine or others that
    share the database, the store and a Redis queue (docs/production.md).
    """
    settings = current_settings()
    if settings.jobs_immediate:
        raise click.ClickException(
            "jobs_immediate is set: jobs run in the requests that queue them, and there is nothing for a worker to do"
        )
    os.nice(settings.worker_nice)  # FFmpeg, started by the jobs, inherits it
    click.echo(f"worker: {threads} thread(s) on {settings.queue_url.split('@')[-1]} ({settings.queue_name})")
    jobs.run_worker(current_app._get_current_object(), threads)  # type: ignore[attr-defined]  # the proxied app


# How long a process that waits for the database sleeps between tries: doubling up to the last.
WAIT_SECONDS = (1, 2, 4, 8, 15, 30)


def _connect(*, wait: bool = False) -> None:
    """Make sure the database answers, or say in one line which setting to fix.

    With `wait`, an unreachable database is tried again (1, 2, 4... then every 30 s) until it answers: a
    worker started while the database is down becomes ready when it is back.
    """
    url = current_settings().database_url
    for attempt in itertools.count():
        try:
            with db.engine.connect():
                return
        except SQLAlchemyError as e:
            problem = schema.connection_problem(url, e)
            if not wait:
                raise click.ClickException(problem) from None
            pause = WAIT_SECONDS[min(attempt, len(WAIT_SECONDS) - 1)]
            click.echo(f"waiting for the database, trying again in {pause} s: {problem}", err=True)
            time.sleep(pause)


def _require_database(*, wait: bool = False) -> None:
    """Refuse, in one line naming the fix, a database that is missing, unreachable or not at the code's schema
    (`wait`: see `_connect`)."""
    settings = current_settings()
    missing = schema.missing_sqlite_file(settings.database_url)
    if missing is not None:
        raise click.ClickException(
            f"there is no database at {missing}. Run commands from the folder that holds config.toml "
            f"(or set PODCAST_CONFIG or PODCAST_DATABASE_URL); to create it, run `{schema.UPGRADE}`"
        )
    _connect(wait=wait)
    try:
        state = schema.state()
    except SQLAlchemyError as e:
        raise click.ClickException(schema.connection_problem(settings.database_url, e)) from None
    if not state.ok:
        raise click.ClickException(state.problem())


def _guarded(callback: Callable[..., Any], *, wait: bool = False) -> Callable[..., Any]:
    """Run a command only on a database at the code's schema, and turn any failure into one line.

    Run from the wrong folder, a command would otherwise create an empty
    SQLite file and print a traceback; it now says where it looked and what
    to do. Errors of the service, the database and the store end the command
    with `Error: ...` and exit status 1. With `wait`, the command waits for an
    unreachable database instead (the worker).
    """

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        _require_database(wait=wait)
        try:
            return callback(*args, **kwargs)
        except PodcastServiceError as e:
            db.session.rollback()
            raise click.ClickException(str(e)) from None
        except SQLAlchemyError as e:
            db.session.rollback()
            raise click.ClickException(f"database error: {str(e).splitlines()[0]}") from None

    return run


# The `flask db` commands that connect to the database (the others read only the migration scripts).
_CONNECTING = ("upgrade", "downgrade", "current", "stamp", "check", "migrate")


def _connecting(callback: Callable[..., Any]) -> Callable[..., Any]:
    """A `flask db` command that first checks the database answers, and says which setting to fix if not."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        _connect()
        return callback(*args, **kwargs)

    return run


def _database_group(group: click.Group) -> click.Group:
    """A copy of Flask-Migrate's `db` group whose connecting commands report an unusable database in one line."""
    copied = copy.copy(group)
    copied.commands = {}
    for name, command in group.commands.items():
        if name in _CONNECTING and command.callback is not None:
            command = copy.copy(command)
            command.callback = _connecting(command.callback)  # type: ignore[arg-type]
        copied.add_command(command, name)
    return copied


def _check_serving(app: Flask) -> None:
    """Under `flask run`, refuse a database the commands would refuse, and warn that sessions end with the
    process when no secret_key is set (gunicorn.conf.py does the same for gunicorn)."""
    context = click.get_current_context(silent=True)
    if context is None or context.info_name != "run":
        return
    with app.app_context():
        _require_database()
        db.session.remove()
    if not current_settings(app).secret_key:
        click.echo(f"Warning: {NO_SECRET_KEY}", err=True)


def register(app: Flask) -> None:
    commands = (
        import_episodes,
        import_feed_command,
        storage_check,
        storage_migrate,
        backup_command,
        restore_command,
        announce_command,
        worker_command,
        *producer_commands.COMMANDS,
    )
    for command in commands:
        if command.callback is not None:
            command.callback = _guarded(command.callback, wait=command is worker_command)
        app.cli.add_command(command)
    database = app.cli.commands.get("db")
    if isinstance(database, click.Group):
        app.cli.add_command(_database_group(database), "db")
    _check_serving(app)
