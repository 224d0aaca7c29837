"""sessions expire: the last time each was used

Revision ID: 0015_session_expiry
Revises: 0014_leases
Create Date: 2026-12-08 03:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import podcast_service.models

revision = "0015_session_expiry"
down_revision = "0014_leases"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", podcast_service.models.UTCDateTime(), nullable=True))
    # A session from before counts as used when it began: the idle expiry ends the old ones.
    op.execute("UPDATE user_sessions SET last_seen_at = created_at")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.alter_column("last_seen_at", nullable=False)


def downgrade():
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
