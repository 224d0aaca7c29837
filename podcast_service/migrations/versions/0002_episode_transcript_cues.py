"""episode transcript cues

Revision ID: 0002_transcript_cues
Revises: 0001_initial
Create Date: 2026-11-26 20:24:54.297334

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002_transcript_cues"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transcript_cues", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_column("transcript_cues")
