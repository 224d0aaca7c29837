"""episode search: an index of titles, summaries and show notes (SQLite FTS5, PostgreSQL tsvector + GIN)

Revision ID: 0008_episode_search
Revises: 0007_audio_pipeline
Create Date: 2026-11-27 19:00:00

"""

from alembic import op

from podcast_service.catalogue import search

revision = "0008_episode_search"
down_revision = "0007_audio_pipeline"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TABLE {search.TABLE} (episode_id INTEGER PRIMARY KEY REFERENCES episodes (id) "
            "ON DELETE CASCADE, document TSVECTOR NOT NULL)"
        )
        op.execute(f"CREATE INDEX ix_{search.TABLE}_document ON {search.TABLE} USING GIN (document)")
    else:
        # The text is folded before it is stored, so the tokenizer has no accents left to remove.
        op.execute(f"CREATE VIRTUAL TABLE {search.TABLE} USING fts5(title, body, tokenize='unicode61')")
    search.reindex(op.get_bind())


def downgrade():
    op.execute(f"DROP TABLE {search.TABLE}")
