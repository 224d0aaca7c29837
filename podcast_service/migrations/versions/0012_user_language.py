"""users' admin language

Revision ID: 0012_user_language
Revises: 0011_language_versions
Create Date: 2026-11-27 22:26:43.922559

"""

import sqlalchemy as sa
from alembic import op

revision = "0012_user_language"
down_revision = "0011_language_versions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
