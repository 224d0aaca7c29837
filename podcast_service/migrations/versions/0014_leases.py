"""leases on feed imports and announcements, as audio jobs have

Revision ID: 0014_leases
Revises: 0013_feed_sizes
Create Date: 2026-12-08 01:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import podcast_service.models

revision = "0014_leases"
down_revision = "0013_feed_sizes"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("feed_imports", "announcements"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
            batch_op.add_column(sa.Column("lease_until", podcast_service.models.UTCDateTime(), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_lease_token"), ["lease_token"], unique=False)
    # An announcement a sender held had its due time moved forward as its lease: it falls due again then.


def downgrade():
    for table in ("announcements", "feed_imports"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_lease_token"))
            batch_op.drop_column("lease_until")
            batch_op.drop_column("lease_token")
