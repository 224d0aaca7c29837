"""trust: credits own their person's details; shows remember the feed they were imported from;
private feeds get a secret token slot (and the cache an episode count); sign-ins become server-side sessions

Revision ID: 0005_trust
Revises: 0004_feed
Create Date: 2026-11-27 13:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0005_trust"
down_revision = "0004_feed"
branch_labels = None
depends_on = None


def _cached_feeds(*slot):
    """The feed cache holds nothing that cannot be rebuilt: it is made anew rather than altered, keeping
    the large columns last (SQLite reads a row's columns in order)."""
    op.drop_table("cached_feeds")
    op.create_table(
        "cached_feeds",
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=True),
        sa.Column("last_modified", sa.DateTime(), nullable=True),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        *slot,
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("gzipped", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_cached_feeds_show_id_shows"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("show_id", name=op.f("pk_cached_feeds")),
    )


def upgrade():
    _cached_feeds(
        sa.Column("item_count", sa.Integer(), nullable=True),
        sa.Column("token_slot", sa.String(length=32), nullable=False),
    )

    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_source", sa.String(length=1000), nullable=True))

    with op.batch_alter_table("show_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=255), nullable=True))
    op.execute("UPDATE show_members SET email = (SELECT email FROM users WHERE users.id = show_members.user_id)")
    with op.batch_alter_table("show_members", schema=None) as batch_op:
        batch_op.alter_column("email", nullable=False)
        batch_op.alter_column("user_id", nullable=True)
        batch_op.create_unique_constraint(batch_op.f("uq_show_members_show_id_email"), ["show_id", "email"])
        batch_op.create_index(batch_op.f("ix_show_members_email"), ["email"], unique=False)

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_sessions_key_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_version")

    # Looked up on every preview request.
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_episodes_preview_key"), ["preview_key"])
    with op.batch_alter_table("credits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=255), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("href", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("img", sa.String(length=1000), nullable=True))
    op.execute(
        "UPDATE credits SET name = (SELECT name FROM people WHERE people.id = credits.person_id), "
        "href = (SELECT href FROM people WHERE people.id = credits.person_id), "
        "img = (SELECT img FROM people WHERE people.id = credits.person_id)"
    )
    with op.batch_alter_table("credits", schema=None) as batch_op:
        batch_op.drop_constraint("fk_credits_person_id_people", type_="foreignkey")
        batch_op.drop_column("person_id")
        batch_op.alter_column("name", server_default=None)
    op.drop_table("people")


def downgrade():
    _cached_feeds()

    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_episodes_preview_key"), type_="unique")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"))
    op.drop_table("user_sessions")

    op.execute("DELETE FROM show_members WHERE user_id IS NULL")
    with op.batch_alter_table("show_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_show_members_email"))
        batch_op.drop_constraint(batch_op.f("uq_show_members_show_id_email"), type_="unique")
        batch_op.alter_column("user_id", nullable=False)
        batch_op.drop_column("email")

    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.drop_column("import_source")
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("href", sa.String(length=1000), nullable=True),
        sa.Column("img", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("name", name=op.f("uq_people_name")),
    )
    # One shared row per name again, with the details of its first credit.
    op.execute(
        "INSERT INTO people (name, href, img) SELECT c.name, c.href, c.img FROM credits c "
        "WHERE c.id = (SELECT min(id) FROM credits d WHERE d.name = c.name)"
    )
    with op.batch_alter_table("credits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
    op.execute("UPDATE credits SET person_id = (SELECT id FROM people WHERE people.name = credits.name)")
    with op.batch_alter_table("credits", schema=None) as batch_op:
        batch_op.alter_column("person_id", nullable=False)
        batch_op.create_foreign_key("fk_credits_person_id_people", "people", ["person_id"], ["id"])
        batch_op.drop_column("img")
        batch_op.drop_column("href")
        batch_op.drop_column("name")
