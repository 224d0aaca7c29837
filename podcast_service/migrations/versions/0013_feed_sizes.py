"""cached feeds' sizes: their ETags are nginx's (last modified and size)

Revision ID: 0013_feed_sizes
Revises: 0012_user_language
Create Date: 2026-11-29 04:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0013_feed_sizes"
down_revision = "0012_user_language"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cached_feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("gzipped_size", sa.Integer(), nullable=True))
    # Every feed is built again on its next request, so that it has its sizes.
    op.execute("UPDATE cached_feeds SET stale = true, generation = generation + 1")


def downgrade():
    with op.batch_alter_table("cached_feeds", schema=None) as batch_op:
        batch_op.drop_column("gzipped_size")
        batch_op.drop_column("size")
