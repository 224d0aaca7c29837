"""the complete feed: Podcasting 2.0 show fields, alternate files, subscribers, feed cache, announcements

Revision ID: 0004_feed
Revises: 0003_accounts
Create Date: 2026-11-26 21:55:38.280561

"""

import uuid

import sqlalchemy as sa
from alembic import op
from flask import current_app

from podcast_service.core.markup import render_markdown

# revision identifiers, used by Alembic.
revision = "0004_feed"
down_revision = "0003_accounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_announcements_show_id_shows"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_announcements_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_announcements_show_id"), ["show_id"], unique=False)

    op.create_table(
        "cached_feeds",
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=True),
        sa.Column("last_modified", sa.DateTime(), nullable=True),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("gzipped", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_cached_feeds_show_id_shows"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("show_id", name=op.f("pk_cached_feeds")),
    )
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_subscribers_show_id_shows"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribers")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_subscribers_token_hash")),
    )
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscribers_show_id"), ["show_id"], unique=False)

    op.create_table(
        "alternate_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=32), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_alternate_files_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["media_id"], ["media_files.id"], name=op.f("fk_alternate_files_media_id_media_files")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alternate_files")),
        sa.UniqueConstraint("media_id", name=op.f("uq_alternate_files_media_id")),
    )
    with op.batch_alter_table("alternate_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alternate_files_episode_id"), ["episode_id"], unique=False)

    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("soundbites", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("notes_html", sa.Text(), nullable=False, server_default=""))

    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("block", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("complete", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("new_feed_url", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("locked", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("medium", sa.String(length=20), nullable=False, server_default="podcast"))
        batch_op.add_column(sa.Column("funding", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("location_name", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("location_geo", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("location_osm", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("license", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("license_url", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("update_frequency", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("update_frequency_text", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("txt", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("podroll", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("season_names", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.create_check_constraint(
            "medium", sa.column("medium").in_(("podcast", "music", "audiobook", "newsletter", "blog"))
        )

    _fill_in()

    op.create_table(
        "transcript_cues",
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("cues", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_transcript_cues_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("episode_id", name=op.f("pk_transcript_cues")),
    )
    op.execute(
        "INSERT INTO transcript_cues (episode_id, cues) "
        "SELECT id, transcript_cues FROM episodes WHERE transcript_cues IS NOT NULL"
    )
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_column("transcript_cues")


PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def _fill_in():
    """Existing rows get what new ones get on save: rendered notes and a podcast:guid.

    Existing shows keep podcast:locked off, as they were; new shows are locked by default.
    """
    conn = op.get_bind()
    for row in conn.execute(sa.text("SELECT id, notes FROM episodes")).all():
        conn.execute(
            sa.text("UPDATE episodes SET notes_html = :h WHERE id = :i"),
            {"h": str(render_markdown(row.notes or "")), "i": row.id},
        )
    base = current_app.config["PODCAST"].base_url
    for row in conn.execute(sa.text("SELECT id, slug FROM shows WHERE podcast_guid IS NULL")).all():
        url = f"{base}/shows/{row.slug}/feed.xml".split("://", 1)[1].rstrip("/")
        conn.execute(
            sa.text("UPDATE shows SET podcast_guid = :g WHERE id = :i"),
            {"g": str(uuid.uuid5(PODCAST_GUID_NAMESPACE, url)), "i": row.id},
        )


def downgrade():
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transcript_cues", sa.JSON(), nullable=True))
    op.execute(
        "UPDATE episodes SET transcript_cues = "
        "(SELECT cues FROM transcript_cues WHERE transcript_cues.episode_id = episodes.id)"
    )
    op.drop_table("transcript_cues")
    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.drop_constraint("medium", type_="check")
        batch_op.drop_column("season_names")
        batch_op.drop_column("podroll")
        batch_op.drop_column("txt")
        batch_op.drop_column("update_frequency_text")
        batch_op.drop_column("update_frequency")
        batch_op.drop_column("license_url")
        batch_op.drop_column("license")
        batch_op.drop_column("location_osm")
        batch_op.drop_column("location_geo")
        batch_op.drop_column("location_name")
        batch_op.drop_column("funding")
        batch_op.drop_column("medium")
        batch_op.drop_column("locked")
        batch_op.drop_column("private")
        batch_op.drop_column("new_feed_url")
        batch_op.drop_column("complete")
        batch_op.drop_column("block")

    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_column("notes_html")
        batch_op.drop_column("soundbites")

    with op.batch_alter_table("alternate_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alternate_files_episode_id"))

    op.drop_table("alternate_files")
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscribers_show_id"))

    op.drop_table("subscribers")
    op.drop_table("cached_feeds")
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcements_show_id"))
        batch_op.drop_index(batch_op.f("ix_announcements_due_at"))

    op.drop_table("announcements")
