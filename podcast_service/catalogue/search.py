"""Full-text search over episodes' titles, summaries and show notes: SQLite FTS5 or PostgreSQL, one interface.

Both databases index the same text, folded here in Python (case and
accents: "Réseau" is found by "reseau"), so a query finds the same
episodes on either. Each episode has one row in `episode_search`: an FTS5
table whose rowid is the episode's id on SQLite, a `tsvector` with a GIN
index on PostgreSQL (the 'simple' configuration: shows speak Dutch,
French, German or English, so no language's stemming is imposed). The
title weighs more than the rest in the ranking.

The index is kept by a session hook: any flush that adds an episode, changes
its title, summary or notes, or deletes it writes its row in the same
transaction. Bulk SQL that bypasses the ORM (restore, the migration that
made the table) calls `reindex`.

A query is reduced to its words (letters and digits), all of which must
appear; the last also matches as a prefix, so "digit" finds "digital". What
users type is never handed to the database's query syntax as such.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, column, func, inspect, literal_column, select, table, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Join

from ..core import changes
from ..core.extensions import db
from ..models import Episode, Show, utcnow
from .service import cards

TABLE = "episode_search"
MAX_TERMS = 8
MAX_TERM_LENGTH = 64
# Title, then summary and notes: bm25's column weights on SQLite (PostgreSQL's ts_rank weighs A over B itself).
TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0
# How many of a query's matches are ranked at most: the most recently added (see matching).
MAX_RANKED = 1000
_WORD = re.compile(r"[^\W_]+")


def fold(value: str) -> str:
    """Lower case without accents, the form both the index and the queries are in."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def terms(query: str) -> list[str]:
    """The query's words, folded: at most MAX_TERMS of them, each cut to MAX_TERM_LENGTH characters."""
    return [word[:MAX_TERM_LENGTH] for word in _WORD.findall(fold(query))][:MAX_TERMS]


def _document(episode_id: int, title: str, summary: str | None, notes: str | None) -> dict[str, object]:
    return {"id": episode_id, "title": fold(title), "body": fold(f"{summary or ''}\n{notes or ''}")}


def index(connection: Connection, rows: Iterable[tuple[int, str, str | None, str | None]]) -> None:
    """Index (id, title, summary, notes) rows written without the ORM, whose hook would have done it."""
    _write(connection, [_document(*row) for row in rows])


def _write(connection: Connection, documents: list[dict[str, object]]) -> None:
    if not documents:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                f"INSERT INTO {TABLE} (episode_id, document) VALUES (:id, "
                "setweight(to_tsvector('simple', :title), 'A') || setweight(to_tsvector('simple', :body), 'B')) "
                "ON CONFLICT (episode_id) DO UPDATE SET document = EXCLUDED.document"
            ),
            documents,
        )
    else:
        _remove(connection, [d["id"] for d in documents])
        connection.execute(text(f"INSERT INTO {TABLE} (rowid, title, body) VALUES (:id, :title, :body)"), documents)


def _remove(connection: Connection, episode_ids: Sequence[object]) -> None:
    if not episode_ids:
        return
    key = "episode_id" if connection.dialect.name == "postgresql" else "rowid"
    connection.execute(text(f"DELETE FROM {TABLE} WHERE {key} = :id"), [{"id": i} for i in episode_ids])


def reindex(connection: Connection, batch: int = 1000) -> int:
    """Rebuild the whole index from the episodes table; returns the number of episodes indexed."""
    connection.execute(text(f"DELETE FROM {TABLE}"))
    episodes = Episode.__table__
    rows = connection.execute(
        select(episodes.c.id, episodes.c.title, episodes.c.summary, episodes.c.notes).order_by(episodes.c.id)
    )
    count = 0
    while chunk := rows.fetchmany(batch):
        index(connection, chunk)
        count += len(chunk)
    return count


_INDEXED = ("title", "summary", "notes")


def _changed(episode: Episode) -> bool:
    state = inspect(episode)
    return any(state.attrs[name].history.has_changes() for name in _INDEXED)


@changes.on_flush
def _keep_index(flush: changes.Flush) -> None:
    written = [e for e in flush.new if isinstance(e, Episode)]
    written += [e for e in flush.dirty if isinstance(e, Episode) and _changed(e)]
    removed = [e.id for e in flush.deleted if isinstance(e, Episode)]
    if not (written or removed):
        return
    connection = flush.session.connection()
    _remove(connection, removed)
    _write(connection, [_document(e.id, e.title, e.summary, e.notes) for e in written])


def matching(show: Show, query: str) -> Select | None:
    """The show's published episodes matching every word of `query` as cards (episodes.cards), best first
    (newest first among equals); None when the query has no word to look for.

    Only the show's MAX_RANKED most recently added matches are ranked (and
    the published ones among them shown): a word found in nearly every
    episode of a long-running show would otherwise have each of its thousands
    of matches scored (bm25, ts_rank) to show the first twenty, and the cost
    of a search would grow with the catalogue.
    """
    words = terms(query)
    if not words:
        return None
    public = (Episode.show_id == show.id, Episode.public_at(utcnow()))
    newest = (Episode.published_at.desc(), Episode.id.desc())
    episodes = Episode.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        index = table(TABLE, column("episode_id"), column("document"))
        tsquery = func.to_tsquery(literal_column("'simple'"), " & ".join([*words[:-1], words[-1] + ":*"]))
        recent = (
            select(index.c.episode_id)
            .join(episodes, episodes.c.id == index.c.episode_id)
            .where(index.c.document.op("@@")(tsquery), episodes.c.show_id == show.id)
            .order_by(index.c.episode_id.desc())
            .limit(MAX_RANKED)
            .subquery()
        )
        return (
            cards()
            .join(recent, recent.c.episode_id == episodes.c.id)
            .join(index, index.c.episode_id == episodes.c.id)
            .where(*public)
            .order_by(func.ts_rank(index.c.document, tsquery).desc(), *newest)
        )
    # bm25() is only defined inside the FTS5 query, so the recent matches are scored there. CROSS JOIN keeps
    # SQLite reading the full-text index first, newest rowid first, stopping at MAX_RANKED (led by the show's
    # episodes it would run the full-text query once per episode), then the candidates before the episodes
    # (led by the show's episodes, it would read all of them).
    fts_query = " ".join([*(f'"{w}"' for w in words[:-1]), f'"{words[-1]}"*'])
    index = table(TABLE, column("rowid"))
    recent = (
        select(
            index.c.rowid.label("episode_id"), func.bm25(literal_column(TABLE), TITLE_WEIGHT, BODY_WEIGHT).label("rank")
        )
        .select_from(LeadingJoin(index, episodes, episodes.c.id == index.c.rowid))
        .where(literal_column(TABLE).op("MATCH")(fts_query), episodes.c.show_id == show.id)
        .order_by(index.c.rowid.desc())
        .limit(MAX_RANKED)
        .subquery()
    )
    return (
        cards(LeadingJoin(recent, episodes, recent.c.episode_id == episodes.c.id))
        .where(*public)
        .order_by(recent.c.rank, *newest)
    )


class LeadingJoin(Join):
    """An inner join whose left side SQLite reads first: written CROSS JOIN, which its planner never
    reorders (https://sqlite.org/optoverview.html#manual_control_of_join_order_using_cross_join).
    Other databases get a plain JOIN and their planner's choice, informed by statistics SQLite lacks."""

    inherit_cache = True


@compiles(LeadingJoin, "sqlite")
def _cross_join(
    join: LeadingJoin, compiler: SQLCompiler, asfrom: bool = False, from_linter: Any = None, **kw: Any
) -> str:
    if from_linter:  # the two sides are joined, not a cartesian product
        from_linter.edges.update(itertools.product(join.left._from_objects, join.right._from_objects))
    return (
        join.left._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw)
        + " CROSS JOIN "
        + join.right._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw)
        + " ON "
        + join.onclause._compiler_dispatch(compiler, from_linter=from_linter, **kw)  # type: ignore[union-attr]
    )
