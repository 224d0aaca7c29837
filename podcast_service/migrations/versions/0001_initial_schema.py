"""initial schema

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26 19:55:07.823854

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "media_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("backend", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("extension", sa.String(length=10), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("bitrate", sa.Integer(), nullable=True),
        sa.Column("sample_rate", sa.Integer(), nullable=True),
        sa.Column("channels", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_files")),
        sa.UniqueConstraint("key", name=op.f("uq_media_files_key")),
        sa.UniqueConstraint("public_id", name=op.f("uq_media_files_public_id")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("href", sa.String(length=1000), nullable=True),
        sa.Column("img", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("name", name=op.f("uq_people_name")),
    )
    op.create_table(
        "shows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("owner_name", sa.String(length=255), nullable=False),
        sa.Column("owner_email", sa.String(length=255), nullable=False),
        sa.Column("copyright", sa.String(length=255), nullable=True),
        sa.Column("website_url", sa.String(length=1000), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("explicit", sa.Boolean(), nullable=False),
        sa.Column("show_type", sa.String(length=10), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=True),
        sa.Column("podcast_guid", sa.String(length=36), nullable=True),
        sa.Column("source_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("show_type IN ('episodic', 'serial')", name=op.f("ck_shows_show_type")),
        sa.ForeignKeyConstraint(["image_id"], ["media_files.id"], name=op.f("fk_shows_image_id_media_files")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shows")),
        sa.UniqueConstraint("slug", name=op.f("uq_shows_slug")),
    )
    op.create_table(
        "episodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=150), nullable=False),
        sa.Column("guid", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("season", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("episode_type", sa.String(length=10), nullable=False),
        sa.Column("explicit", sa.Boolean(), nullable=False),
        sa.Column("audio_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=True),
        sa.Column("transcript_id", sa.Integer(), nullable=True),
        sa.Column("source_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("episode_type IN ('full', 'trailer', 'bonus')", name=op.f("ck_episodes_episode_type")),
        sa.ForeignKeyConstraint(["audio_id"], ["media_files.id"], name=op.f("fk_episodes_audio_id_media_files")),
        sa.ForeignKeyConstraint(["image_id"], ["media_files.id"], name=op.f("fk_episodes_image_id_media_files")),
        sa.ForeignKeyConstraint(["show_id"], ["shows.id"], name=op.f("fk_episodes_show_id_shows"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["transcript_id"], ["media_files.id"], name=op.f("fk_episodes_transcript_id_media_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episodes")),
        sa.UniqueConstraint("show_id", "guid", name=op.f("uq_episodes_show_id_guid")),
        sa.UniqueConstraint("show_id", "slug", name=op.f("uq_episodes_show_id_slug")),
    )
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_episodes_published_at"), ["published_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_episodes_show_id"), ["show_id"], unique=False)

    op.create_table(
        "chapters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_chapters_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chapters")),
    )
    with op.batch_alter_table("chapters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chapters_episode_id"), ["episode_id"], unique=False)

    op.create_table(
        "credits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("show_id", sa.Integer(), nullable=True),
        sa.Column("episode_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=50), nullable=False),
        sa.Column("group", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("(show_id IS NULL) <> (episode_id IS NULL)", name=op.f("ck_credits_one_owner")),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_credits_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_credits_person_id_people")),
        sa.ForeignKeyConstraint(["show_id"], ["shows.id"], name=op.f("fk_credits_show_id_shows"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credits")),
    )
    with op.batch_alter_table("credits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credits_episode_id"), ["episode_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credits_show_id"), ["show_id"], unique=False)

    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("rel", sa.String(length=30), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_links_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
    )
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_links_episode_id"), ["episode_id"], unique=False)


def downgrade():
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_links_episode_id"))

    op.drop_table("links")
    with op.batch_alter_table("credits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credits_show_id"))
        batch_op.drop_index(batch_op.f("ix_credits_episode_id"))

    op.drop_table("credits")
    with op.batch_alter_table("chapters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chapters_episode_id"))

    op.drop_table("chapters")
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_episodes_show_id"))
        batch_op.drop_index(batch_op.f("ix_episodes_published_at"))

    op.drop_table("episodes")
    op.drop_table("shows")
    op.drop_table("people")
    op.drop_table("media_files")
