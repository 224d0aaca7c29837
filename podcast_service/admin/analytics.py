"""A show's downloads for its producers: chart, episodes compared by their first days, apps, sources, CSV."""

from __future__ import annotations

import csv
import io

from flask import Response, abort, render_template, request, stream_with_context
from flask_login import current_user

from ..accounts import service as accounts
from ..analytics import charts, reports
from . import bp

PERIODS = (7, 30, 90, 365)


def period() -> int:
    """?days=: one of PERIODS (30 when absent); anything else is a 404, not a guess."""
    value = request.args.get("days", "30")
    if not value.isdigit() or int(value) not in PERIODS:
        abort(404, description=f"days is one of {', '.join(map(str, PERIODS))}.")
    return int(value)


@bp.get("/shows/<slug>/analytics")
def analytics(slug: str) -> str:
    show = accounts.producer_show(current_user, slug)
    figures = reports.show_figures(show, days=period())
    return render_template(
        "admin/analytics.html",
        show=show,
        figures=figures,
        chart=charts.per_day(figures.per_day),
        periods=PERIODS,
        windows=reports.WINDOWS,
        sources=reports.SOURCES,
    )


# A cell starting with one of these is a formula to a spreadsheet (OWASP's "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(cell: object) -> object:
    """A text cell a spreadsheet shows as text: a leading quote before what would start a formula."""
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


@bp.get("/shows/<slug>/analytics.csv")
def analytics_csv(slug: str) -> Response:
    """Every counted day, episode, app and source, then today so far; written as it is read.

    Titles and app names come from producers and listeners' user agents, so no cell may start a formula.
    """
    show = accounts.producer_show(current_user, slug)

    def lines():  # noqa: ANN202
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in reports.csv_rows(show):
            writer.writerow([inert(cell) for cell in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{show.slug}-downloads.csv"'
    return response
