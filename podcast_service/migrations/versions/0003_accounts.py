"""accounts, tokens, unpublished episodes

Revision ID: 0003_accounts
Revises: 0002_transcript_cues
Create Date: 2026-11-26 21:02:19.342105

"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003_accounts"
down_revision = "0002_transcript_cues"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failures_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_failures_subject"), ["subject"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "show_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.CheckConstraint("role IN ('owner', 'editor')", name=op.f("ck_show_members_role")),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_show_members_show_id_shows"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_show_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_show_members")),
        sa.UniqueConstraint("user_id", "show_id", name=op.f("uq_show_members_user_id_show_id")),
    )
    with op.batch_alter_table("show_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_show_members_show_id"), ["show_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_show_members_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("preview_key", sa.String(length=43), nullable=True))

    # Existing episodes get their own preview key before the column becomes required.
    episodes = sa.table("episodes", sa.column("id", sa.Integer), sa.column("preview_key", sa.String))
    connection = op.get_bind()
    for (episode_id,) in connection.execute(sa.select(episodes.c.id)).all():
        connection.execute(
            episodes.update().where(episodes.c.id == episode_id).values(preview_key=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.alter_column("preview_key", existing_type=sa.String(length=43), nullable=False)


def downgrade():
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_column("preview_key")
        batch_op.drop_column("withdrawn_at")

    with op.batch_alter_table("show_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_show_members_user_id"))
        batch_op.drop_index(batch_op.f("ix_show_members_show_id"))

    op.drop_table("show_members")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_subject"))
        batch_op.drop_index(batch_op.f("ix_login_failures_at"))

    op.drop_table("login_failures")
