"""feed imports: admin imports run by a worker, with their progress

Revision ID: 0010_feed_imports
Revises: 0009_analytics
Create Date: 2026-11-27 21:55:28.943857

"""

import sqlalchemy as sa
from alembic import op

import podcast_service.models

revision = "0010_feed_imports"
down_revision = "0009_analytics"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "feed_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=2048), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=True),
        sa.Column("override_lock", sa.Boolean(), nullable=False),
        sa.Column("owner_email", sa.String(length=254), nullable=True),
        sa.Column("show_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("items_total", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("present", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("bytes_fetched", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("remarks", sa.JSON(), nullable=False),
        sa.Column("created_at", podcast_service.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", podcast_service.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_feed_imports_import_state")
        ),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_feed_imports_show_id_shows"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_feed_imports_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_imports")),
    )
    with op.batch_alter_table("feed_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_imports_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("feed_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_imports_user_id"))

    op.drop_table("feed_imports")
