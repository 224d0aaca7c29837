"""What the producer sees while a feed imports, and the summary at the end.

On a terminal: one progress bar (items done of all, megabytes fetched, the
item being fetched), with what failed or was left out listed once the bar
is done, so nothing scrolls the bar away. Elsewhere (a log file, cron, the
admin's job): a line per item as it is done.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from types import TracebackType
from typing import Any

import click

from ..models import Show
from .feed import ImportedItem
from .run import no_counts


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


class Progress:
    def __init__(self, *, terminal: bool | None = None) -> None:
        self.terminal = sys.stdout.isatty() if terminal is None else terminal
        self.counts: Counter[str] = no_counts()
        self.fetched = 0
        self.remarks: list[ImportedItem] = []  # failed, or imported with something left out
        self.started_at = time.monotonic()
        self.bar: Any = None

    def __enter__(self) -> Progress:
        return self

    def started(self, show: Show, total: int, notes: list[str]) -> None:
        click.echo(f"show {show.slug}: {show.title}; {total} items in the feed")
        for note in notes:
            click.secho(note, fg="yellow")
        if self.terminal:
            self.bar = click.progressbar(
                length=total,
                label="importing",
                show_pos=True,
                width=30,
                item_show_func=lambda _: _megabytes(self.fetched),
            )
            self.bar.__enter__()

    def done(self, item: ImportedItem) -> None:
        self.counts[item.outcome] += 1
        self.fetched += item.size
        if item.outcome == "failed" or item.message:
            self.remarks.append(item)
        if self.bar is not None:
            self.bar.update(1, item)
        else:
            _say(item)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, error, trace)
            for item in self.remarks:
                _say(item)

    def summary(self) -> str:
        seconds = max(time.monotonic() - self.started_at, 1e-3)
        handled = sum(self.counts.values())
        return (
            ", ".join(f"{n} {outcome}" for outcome, n in self.counts.items())
            + f"; {_megabytes(self.fetched)} fetched in {seconds:.0f} s ({handled / seconds:.1f} items/s)"
        )


def _say(item: ImportedItem) -> None:
    line = f"{item.outcome:>9}  {item.title} ({item.guid})"
    if item.outcome == "failed":
        click.secho(f"{line}: {item.message}", fg="red", err=True)
    elif item.message:  # imported, with something it carried left out
        click.secho(f"{line}; {item.message}", fg="yellow")
    else:
        click.echo(line)
