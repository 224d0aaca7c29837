"""language versions: shows and episodes that are one programme in several languages

Revision ID: 0011_language_versions
Revises: 0010_feed_imports
Create Date: 2026-11-27 22:23:24.274886

"""

import sqlalchemy as sa
from alembic import op

revision = "0011_language_versions"
down_revision = "0010_feed_imports"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_group", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_episodes_version_group"), ["version_group"], unique=False)

    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_group", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_shows_version_group"), ["version_group"], unique=False)


def downgrade():
    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shows_version_group"))
        batch_op.drop_column("version_group")

    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_episodes_version_group"))
        batch_op.drop_column("version_group")
