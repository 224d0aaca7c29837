"""analytics: enclosure requests kept until counted, daily download counts, the day's listener-key salt,
and shows' measurement prefix

Revision ID: 0009_analytics
Revises: 0008_episode_search
Create Date: 2026-11-27 18:49:09.402458

"""

import sqlalchemy as sa
from alembic import op

import podcast_service.models

revision = "0009_analytics"
down_revision = "0008_episode_search"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "analytics_salts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_analytics_salts")),
    )
    op.create_table(
        "daily_downloads",
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("app", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_daily_downloads_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_daily_downloads_show_id_shows"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("episode_id", "day", "app", "source", "country", name=op.f("pk_daily_downloads")),
    )
    with op.batch_alter_table("daily_downloads", schema=None) as batch_op:
        batch_op.create_index("ix_daily_downloads_show_day", ["show_id", "day"], unique=False)

    op.create_table(
        "media_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", podcast_service.models.UTCDateTime(), nullable=False),
        sa.Column("listener", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=4), nullable=False),
        sa.Column("range_start", sa.BigInteger(), nullable=False),
        sa.Column("range_end", sa.BigInteger(), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("threshold", sa.BigInteger(), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("app", sa.String(length=80), nullable=False),
        sa.Column("bot", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("referrer", sa.String(length=255), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_media_requests_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_requests")),
    )
    with op.batch_alter_table("media_requests", schema=None) as batch_op:
        batch_op.create_index("ix_media_requests_day_episode_listener", ["day", "episode_id", "listener"], unique=False)
        batch_op.create_index("ix_media_requests_episode_id", ["episode_id"], unique=False)

    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("measurement_prefix", sa.String(length=200), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.drop_column("measurement_prefix")

    with op.batch_alter_table("media_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_media_requests_episode_id")
        batch_op.drop_index("ix_media_requests_day_episode_listener")

    op.drop_table("media_requests")
    with op.batch_alter_table("daily_downloads", schema=None) as batch_op:
        batch_op.drop_index("ix_daily_downloads_show_day")

    op.drop_table("daily_downloads")
    op.drop_table("analytics_salts")
