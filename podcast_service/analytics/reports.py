"""The figures producers see (dashboard, CSV, API): counted days from `daily_downloads`, the rest live.

Today's figures, and those of a finished day the rollup has not counted yet,
are counted from their raw rows on each request (one pass over one day of
one show's requests); other days come from the rollup's table. Episodes are compared by their first 7, 30 and 90 days, so
last week's episode and last year's are measured alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from ..core.extensions import db
from ..models import DailyDownloads, Episode, Show, utcnow
from .counting import uncounted

WINDOWS = (7, 30, 90)
# Where downloads came from: apps reading the feed, the site's player (episode page), the embed, private feeds.
SOURCES = ("feed", "web", "embed", "private")


@dataclass
class EpisodeFigures:
    id: int
    slug: str
    title: str
    published: date | None
    total: int = 0
    first_days: dict[int, int] = field(default_factory=dict)  # {7: n, 30: n, 90: n}


@dataclass
class ShowFigures:
    start: date
    end: date
    per_day: list[tuple[date, int]]
    total: int
    apps: list[tuple[str, int]]
    sources: dict[str, int]
    episodes: list[EpisodeFigures]
    # Only where a GeoIP database is configured (else empty); "" is a download whose country is unknown.
    countries: list[tuple[str, int]]


def show_figures(show: Show, days: int = 30, today: date | None = None, episodes: int = 50) -> ShowFigures:
    """The last `days` days (today included) and the newest `episodes` published episodes."""
    today = today or utcnow().date()
    start = today - timedelta(days=days - 1)
    pending = uncounted(show.id, today)
    live = {day: counts for day, counts in pending.items() if day >= start}
    counted = DailyDownloads.show_id == show.id
    per_day = Counter(
        dict(
            db.session.execute(
                select(DailyDownloads.day, func.sum(DailyDownloads.downloads))
                .where(counted, DailyDownloads.day >= start)
                .group_by(DailyDownloads.day)
            ).all()
        )
    )
    for day, counts in live.items():
        per_day[day] += sum(counts.values())
    apps: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    countries: Counter[str] = Counter()
    for target, column in (
        (apps, DailyDownloads.app),
        (sources, DailyDownloads.source),
        (countries, DailyDownloads.country),
    ):
        target.update(
            dict(
                db.session.execute(
                    select(column, func.sum(DailyDownloads.downloads))
                    .where(counted, DailyDownloads.day >= start)
                    .group_by(column)
                ).all()
            )
        )
    for counts in live.values():
        for (_episode, app, source, country), n in counts.items():
            apps[app] += n
            sources[source] += n
            countries[country] += n
    return ShowFigures(
        start=start,
        end=today,
        per_day=[(start + timedelta(days=n), int(per_day.get(start + timedelta(days=n), 0))) for n in range(days)],
        total=int(sum(per_day[d] for d in per_day if d >= start)),
        apps=_ranked(apps),
        sources={s: int(sources.get(s, 0)) for s in SOURCES},
        episodes=episode_figures(show, pending, episodes),
        countries=_ranked(countries) if any(countries) else [],
    )


def _ranked(counts: Counter) -> list[tuple[str, int]]:
    return sorted(((k, int(n)) for k, n in counts.items()), key=lambda item: (-item[1], item[0]))


def episode_figures(
    show: Show, live: dict[date, Counter[tuple[int, str, str, str]]], limit: int
) -> list[EpisodeFigures]:
    rows = db.session.execute(
        select(Episode.id, Episode.slug, Episode.title, Episode.published_at)
        .where(Episode.show_id == show.id, Episode.public_at(utcnow()))
        .order_by(Episode.published_at.desc(), Episode.id.desc())
        .limit(limit)
    ).all()
    figures = {
        r.id: EpisodeFigures(
            r.id,
            r.slug,
            r.title,
            r.published_at.date() if r.published_at else None,
            first_days=dict.fromkeys(WINDOWS, 0),
        )
        for r in rows
    }
    daily = db.session.execute(
        select(DailyDownloads.episode_id, DailyDownloads.day, func.sum(DailyDownloads.downloads))
        .where(DailyDownloads.episode_id.in_(figures))
        .group_by(DailyDownloads.episode_id, DailyDownloads.day)
    ).all()
    live_days = [(key[0], day, n) for day, counts in live.items() for key, n in counts.items() if key[0] in figures]
    for episode_id, day, n in [*daily, *live_days]:
        each = figures[episode_id]
        each.total += int(n)
        if each.published is not None:
            for window in WINDOWS:
                if day < each.published + timedelta(days=window):
                    each.first_days[window] += int(n)
    return list(figures.values())


def csv_rows(show: Show) -> Iterator[list[object]]:
    """Every counted day of the show, then the days not counted yet (today so far): date, episode, app, source,
    country, downloads."""
    yield ["date", "episode", "title", "app", "source", "country", "downloads"]
    query = (
        select(
            DailyDownloads.day,
            Episode.slug,
            Episode.title,
            DailyDownloads.app,
            DailyDownloads.source,
            DailyDownloads.country,
            DailyDownloads.downloads,
        )
        .join(Episode, Episode.id == DailyDownloads.episode_id)
        .where(DailyDownloads.show_id == show.id)
        .order_by(DailyDownloads.day, Episode.slug, DailyDownloads.app, DailyDownloads.source, DailyDownloads.country)
    )
    for row in db.session.execute(query.execution_options(yield_per=5000)):
        yield [row.day.isoformat(), row.slug, row.title, row.app, row.source, row.country, row.downloads]
    live = uncounted(show.id, utcnow().date())
    names = {
        row.id: (row.slug, row.title)
        for row in db.session.execute(
            select(Episode.id, Episode.slug, Episode.title).where(
                Episode.id.in_({key[0] for counts in live.values() for key in counts})
            )
        )
    }
    for day, counts in sorted(live.items()):
        for (episode_id, app, source, country), n in sorted(
            counts.items(), key=lambda item: (names.get(item[0][0], ("",)), item[0][1:])
        ):
            slug, title = names.get(episode_id, ("", ""))
            yield [day.isoformat(), slug, title, app, source, country, n]


def as_json(figures: ShowFigures) -> dict:
    return {
        "start": figures.start.isoformat(),
        "end": figures.end.isoformat(),
        "total": figures.total,
        "window": "UTC calendar day",
        "per_day": [{"date": d.isoformat(), "downloads": n} for d, n in figures.per_day],
        "apps": [{"app": a, "downloads": n} for a, n in figures.apps],
        "sources": figures.sources,
        "countries": [{"country": c or None, "downloads": n} for c, n in figures.countries],
        "episodes": [
            {
                "id": e.id,
                "slug": e.slug,
                "title": e.title,
                "published": e.published.isoformat() if e.published else None,
                "downloads": e.total,
                "first_days": {str(w): e.first_days[w] for w in WINDOWS},
            }
            for e in figures.episodes
        ],
    }
