"""resilience and scale: episodes remember the Idempotency-Key of the upload that created them; run locks;
indexes for every lookup a request makes; what the lists show kept on the rows they read

Revision ID: 0006_resilience
Revises: 0005_trust
Create Date: 2026-11-27 14:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006_resilience"
down_revision = "0005_trust"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "run_locks",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_run_locks")),
    )
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_episodes_show_id_idempotency_key"), ["show_id", "idempotency_key"]
        )
        for column in ("audio_id", "image_id", "transcript_id"):
            batch_op.create_index(batch_op.f(f"ix_episodes_{column}"), [column], unique=False)
        batch_op.create_index("ix_episodes_show_id_published_at", ["show_id", "published_at", "id"], unique=False)
        batch_op.create_index("ix_episodes_show_id_created_at", ["show_id", "created_at", "id"], unique=False)
        batch_op.add_column(sa.Column("apple_playable", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.create_index("ix_episodes_show_id_apple_playable", ["show_id", "apple_playable"], unique=False)
    op.execute(
        "UPDATE episodes SET apple_playable = ("
        "(SELECT extension FROM media_files WHERE media_files.id = episodes.audio_id) IN ('.mp3', '.m4a') "
        "OR EXISTS (SELECT 1 FROM alternate_files a JOIN media_files m ON m.id = a.media_id "
        "WHERE a.episode_id = episodes.id AND m.extension IN ('.mp3', '.m4a')))"
    )
    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shows_image_id"), ["image_id"], unique=False)


def downgrade():
    op.drop_table("run_locks")
    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shows_image_id"))
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_index("ix_episodes_show_id_apple_playable")
        batch_op.drop_column("apple_playable")
        batch_op.drop_index("ix_episodes_show_id_created_at")
        batch_op.drop_index("ix_episodes_show_id_published_at")
        for column in ("audio_id", "image_id", "transcript_id"):
            batch_op.drop_index(batch_op.f(f"ix_episodes_{column}"))
        batch_op.drop_constraint(batch_op.f("uq_episodes_show_id_idempotency_key"), type_="unique")
        batch_op.drop_column("idempotency_key")
