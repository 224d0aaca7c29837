"""imports prove ownership: a verify code per import, and whether a show's guid was proven

Revision ID: 0016_import_proof
Revises: 0015_session_expiry
Create Date: 2026-12-08 03:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0016_import_proof"
down_revision = "0015_session_expiry"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("feed_imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verify_code", sa.String(length=64), nullable=False, server_default=""))
        batch_op.drop_column("override_lock")
    # Shows from before keep their guids as they are.
    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guid_proven", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.drop_column("guid_proven")
    with op.batch_alter_table("feed_imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("override_lock", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_column("verify_code")
