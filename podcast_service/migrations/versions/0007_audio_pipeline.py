"""audio pipeline: masters kept beside the renditions made from them, loudness figures, waveforms,
per-show encoding settings, and the audio jobs' state; shows' subscribe links for the public site

Revision ID: 0007_audio_pipeline
Revises: 0006_resilience
Create Date: 2026-11-27 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007_audio_pipeline"
down_revision = "0006_resilience"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("media_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("loudness", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("true_peak", sa.Float(), nullable=True))
    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audio_bitrate", sa.Integer(), nullable=False, server_default="64"))
        batch_op.add_column(sa.Column("audio_channels", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("normalize_masters", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("normalize_compressed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("subscribe_links", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("master_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("waveform_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("audio_ready", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.create_foreign_key(
            batch_op.f("fk_episodes_master_id_media_files"), "media_files", ["master_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_episodes_waveform_id_media_files"), "media_files", ["waveform_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_episodes_master_id"), ["master_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_episodes_waveform_id"), ["waveform_id"], unique=False)
    with op.batch_alter_table("alternate_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("generated", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "audio_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("encode", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("gain", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_audio_jobs_job_state")),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_audio_jobs_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["source_id"], ["media_files.id"], name=op.f("fk_audio_jobs_source_id_media_files")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audio_jobs")),
        sa.UniqueConstraint("episode_id", name=op.f("uq_audio_jobs_episode_id")),
    )
    with op.batch_alter_table("audio_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audio_jobs_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audio_jobs_state"), ["state"], unique=False)


def downgrade():
    op.drop_table("audio_jobs")
    with op.batch_alter_table("alternate_files", schema=None) as batch_op:
        batch_op.drop_column("generated")
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_episodes_waveform_id"))
        batch_op.drop_index(batch_op.f("ix_episodes_master_id"))
        batch_op.drop_constraint(batch_op.f("fk_episodes_waveform_id_media_files"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_episodes_master_id_media_files"), type_="foreignkey")
        batch_op.drop_column("audio_ready")
        batch_op.drop_column("waveform_id")
        batch_op.drop_column("master_id")
    with op.batch_alter_table("shows", schema=None) as batch_op:
        for column in (
            "subscribe_links",
            "normalize_compressed",
            "normalize_masters",
            "audio_channels",
            "audio_bitrate",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("media_files", schema=None) as batch_op:
        batch_op.drop_column("true_peak")
        batch_op.drop_column("loudness")
