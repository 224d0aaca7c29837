"""What counts as a download (IAB Tech Lab Podcast Measurement Technical Guidelines v2.2), and the daily rollup.

The rules, each named in the tests after what it guards against:
- GET only: a HEAD asks about a file, it does not fetch it;
- a `bytes=0-1` probe (or any request for the first bytes only) is not a
  download on its own: what counts is coverage;
- the ranges one listener asked for an episode's file on one day count
  once they cover together the file's first minute (the tags before the
  audio plus a minute at the file's bitrate, or the whole file if shorter);
  a request without Range covers all of it;
- once per listener key, episode and UTC day, however many requests;
- no bots: the user-agent lists (agents.py) and, when configured,
  data-centre address ranges.

The window is the UTC calendar day (IAB allows a calendar day or a rolling
24 hours): the salt behind listener keys is a day's, so keys from different
days cannot be matched anyway, and a day's raw rows can be rolled up and
deleted as soon as it ends.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from sqlalchemy import delete, func, select

from .. import jobs
from ..core import locks
from ..core.errors import Conflict
from ..core.extensions import db
from ..models import AnalyticsSalt, DailyDownloads, Episode, MediaRequest, utcnow
from . import listeners

log = logging.getLogger(__name__)
MINUTE = 60


def threshold(size: int, duration: float | None, bitrate: int | None) -> int:
    """Bytes that hold the first minute: the tags before the audio plus a minute at the bitrate."""
    if not duration or duration <= MINUTE:
        return size
    if not bitrate:
        return max(1, min(size, round(size * MINUTE / duration)))
    audio = bitrate / 8 * duration
    tags = max(0, size - audio)
    return max(1, min(size, round(tags + bitrate / 8 * MINUTE)))


@dataclass(frozen=True)
class Request:
    """A recorded request, as far as counting is concerned."""

    episode_id: int
    listener: str
    method: str
    range_start: int
    range_end: int
    threshold: int
    bot: bool
    app: str
    source: str
    country: str


def covered(spans: Iterable[tuple[int, int]], needed: int) -> bool:
    """Whether the inclusive byte spans together cover bytes 0 .. needed - 1."""
    reach = 0
    for start, end in sorted(spans):
        if start > reach:
            return False
        reach = max(reach, end + 1)
        if reach >= needed:
            return True
    return reach >= needed


def downloads(requests: Iterable[Request]) -> Iterator[tuple[int, str, str, str]]:
    """(episode id, app, source, country) of each download among one day's requests, sorted by episode and
    listener. The app, source and country are those of the listener's first request for the episode that day.
    """
    for (episode_id, _listener), group in groupby(requests, key=lambda r: (r.episode_id, r.listener)):
        asked = [r for r in group if r.method == "GET" and not r.bot and r.range_start >= 0]
        if asked and covered(((r.range_start, r.range_end) for r in asked), asked[0].threshold):
            yield episode_id, asked[0].app, asked[0].source, asked[0].country


def _day_requests(day: date, show_id: int | None = None) -> Iterator[Request]:
    query = (
        select(
            MediaRequest.episode_id,
            MediaRequest.listener,
            MediaRequest.method,
            MediaRequest.range_start,
            MediaRequest.range_end,
            MediaRequest.threshold,
            MediaRequest.bot,
            MediaRequest.app,
            MediaRequest.source,
            MediaRequest.country,
        )
        .where(MediaRequest.day == day)
        .order_by(MediaRequest.episode_id, MediaRequest.listener, MediaRequest.at, MediaRequest.id)
    )
    if show_id is not None:
        query = query.join(Episode, Episode.id == MediaRequest.episode_id).where(Episode.show_id == show_id)
    for row in db.session.execute(query.execution_options(yield_per=5000)):
        yield Request(*row)  # type: ignore[call-arg]  # the select reads the fields, in their order


def tally(day: date, show_id: int | None = None) -> Counter[tuple[int, str, str, str]]:
    """{(episode id, app, source, country): downloads} for the day from its raw rows (today's, live, for
    reports)."""
    return Counter(downloads(_day_requests(day, show_id)))


def uncounted(show_id: int, today: date) -> dict[date, Counter[tuple[int, str, str, str]]]:
    """The show's tally for each day whose raw rows the rollup has not counted yet: today, and finished days
    it has not reached (the minutes after midnight, or a job worker down). A day is either still in raw rows
    or counted in `daily_downloads`, never both: the rollup moves it in one transaction."""
    first = db.session.scalar(select(func.min(MediaRequest.day)))
    if first is None:
        return {}
    days = (first + timedelta(days=n) for n in range((today - first).days + 1))
    return {day: counts for day in days if (counts := tally(day, show_id))}


def roll_up(today: date | None = None) -> list[date]:
    """Count every finished day that still has raw rows, store its figures, delete its rows and salt.

    Idempotent per day (a day's figures and the deletion of its rows commit together), so a rollup killed
    half-way is simply run again.
    """
    today = today or utcnow().date()
    days = list(
        db.session.scalars(
            select(MediaRequest.day).where(MediaRequest.day < today).distinct().order_by(MediaRequest.day)
        )
    )
    for day in days:
        counts = tally(day)
        shows = (
            dict(
                db.session.execute(
                    select(Episode.id, Episode.show_id).where(Episode.id.in_({key[0] for key in counts}))
                ).all()
            )
            if counts
            else {}
        )
        db.session.execute(delete(DailyDownloads).where(DailyDownloads.day == day))
        db.session.add_all(
            DailyDownloads(episode_id=e, day=day, app=a, source=s, country=c, show_id=shows[e], downloads=n)
            for (e, a, s, c), n in counts.items()
            if e in shows
        )
        db.session.execute(delete(MediaRequest).where(MediaRequest.day == day))
        db.session.commit()
        log.info("analytics: %s counted, %d downloads", day, sum(counts.values()))
    # A salt is needed only on its own day: once that is over, nobody may derive keys with it again.
    db.session.execute(delete(AnalyticsSalt).where(AnalyticsSalt.day < today))
    db.session.commit()
    listeners.forget(today)
    return days


@jobs.periodic("analytics_roll_up", minute="*/10")
def scheduled_roll_up() -> None:
    """Every ten minutes, on one worker at a time."""
    try:
        with locks.held("analytics-roll-up"):
            roll_up()
    except Conflict:
        log.info("analytics roll-up already running elsewhere")
