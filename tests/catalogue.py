"""Large catalogues written straight into the database, for the scale tests and bench/scale.py.

The episodes are published, with a chapter, a link and a credit each, and
media rows whose files are never fetched (only the real episodes' are);
they are in the search index as the ORM's hook would have put them.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from podcast_service.catalogue import search
from podcast_service.core.extensions import db
from podcast_service.feed.cache import mark_stale
from podcast_service.models import Chapter, Credit, Episode, Link, MediaFile, utcnow


def add_episodes(show, count: int, start: int) -> None:
    """Published episodes written straight into the database (their files are never fetched here)."""
    now = utcnow()
    media = [
        {
            "public_id": f"bulk{n:028x}",
            "backend": "local",
            "key": f"audio/bulk-{n}.mp3",
            "size": 1000 + n,
            "mime_type": "audio/mpeg",
            "extension": ".mp3",
            "sha256": "0" * 64,
            "duration": 60.0,
            "bitrate": 128000,
            "created_at": now,
        }
        for n in range(start, start + count)
    ]
    ids = (
        db.session.execute(insert(MediaFile).returning(MediaFile.id, sort_by_parameter_order=True), media)
        .scalars()
        .all()
    )
    episodes = [
        {
            "show_id": show.id,
            "slug": f"bulk-{n}",
            "guid": f"bulk-{n}",
            "title": f"Bulk {n}",
            "summary": "s",
            "notes": "n",
            "notes_html": "<p>n</p>",
            "published_at": now - timedelta(minutes=n + 1),
            "episode_type": "full",
            "explicit": False,
            "audio_id": media_id,
            "soundbites": [],
            "preview_key": f"bulk-preview-{n:030d}",
            "created_at": now,
            "updated_at": now,
        }
        for n, media_id in zip(range(start, start + count), ids)
    ]
    episode_ids = (
        db.session.execute(insert(Episode).returning(Episode.id, sort_by_parameter_order=True), episodes)
        .scalars()
        .all()
    )
    search.index(
        db.session.connection(),
        [(e, row["title"], row["summary"], row["notes"]) for e, row in zip(episode_ids, episodes)],
    )
    db.session.execute(insert(Chapter), [{"episode_id": e, "start": 0.0, "title": "Start"} for e in episode_ids])
    db.session.execute(
        insert(Link),
        [
            {"episode_id": e, "title": "Report", "url": "https://example.org/r", "rel": "report", "position": 0}
            for e in episode_ids
        ],
    )
    db.session.execute(
        insert(Credit),
        [{"episode_id": e, "name": "Host", "role": "host", "group": "cast", "position": 0} for e in episode_ids],
    )
    mark_stale(db.session.connection(), {show.id})  # as feed/changes.py would for writes through the ORM
    db.session.commit()
