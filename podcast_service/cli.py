"""Commands for `flask --app podcast_service ...`, registered by create_app."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import Flask

from . import consistency
from .episodes import storage
from .errors import PodcastServiceError
from .importer import Outcome, import_folder


@click.command("import-episodes")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_episodes(folder: Path) -> None:
    """Import the show in FOLDER/show.toml and each episode folder beside it.

    Safe to run again: unchanged folders are skipped, edited ones update their
    episode. Exits with status 1 if any folder could not be imported.
    """
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
@click.option("--grace-minutes", type=click.IntRange(min=0), default=60, show_default=True,
              help="Uploads begun more recently may still be running and are left alone.")
def storage_check(fix: bool, grace_minutes: int) -> None:
    """List objects without a row and rows without an object in the configured store.

    Exits with status 1 while anything is out of step (after --fix: while rows
    still lack their object, which needs a producer to re-upload).
    """
    store = storage()
    try:
        grace = timedelta(minutes=grace_minutes)
        report = consistency.check(store, grace)
        for key in report.orphaned_objects:
            click.echo(f"object without a row: {key}")
        for key in report.missing_objects:
            click.echo(f"row without an object: {key}")
        for upload in report.abandoned_uploads:
            click.echo(f"abandoned upload: {upload.key} ({upload.upload_id}, begun {upload.started:%Y-%m-%d %H:%M} UTC)")
        if fix:
            consistency.fix(store, report)
            click.echo(f"removed {len(report.orphaned_objects)} orphaned objects, "
                       f"aborted {len(report.abandoned_uploads)} abandoned uploads")
            report = consistency.check(store, grace)
    except PodcastServiceError as e:
        raise click.ClickException(str(e)) from None
    if report.clean:
        click.echo(f"storage ({store.name}) and database agree")
    else:
        raise click.exceptions.Exit(1)


def register(app: Flask) -> None:
    app.cli.add_command(import_episodes)
    app.cli.add_command(storage_check)
