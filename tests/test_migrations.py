"""Migrations keep a producer's data: an existing database upgraded, and downgraded again."""

from __future__ import annotations

import contextlib
import json

import flask_migrate
import pytest
from fixtures.services import postgres_schema
from sqlalchemy import inspect, text

from podcast_service import create_app
from podcast_service.core.extensions import db

# Each test migrates a database of its own from an older revision.
pytestmark = pytest.mark.fresh_schema


def decoded(value):
    """JSON columns come back decoded from PostgreSQL and as text from SQLite."""
    return json.loads(value) if isinstance(value, str) else value


def test_the_feed_migration_keeps_every_row(app_config):
    app = create_app(app_config)
    with app.app_context():
        flask_migrate.upgrade(revision="0003_accounts")
        cues = [[0.0, 2.0, "Hello."], [2.5, 4.0, "Goodbye."]]
        for statement, values in [
            (
                "INSERT INTO media_files (id, public_id, backend, key, size, mime_type, extension, sha256, created_at) "
                "VALUES (1, 'p1', 'local', 'audio/1.mp3', 10, 'audio/mpeg', '.mp3', :h, '2021-01-01')",
                {"h": "0" * 64},
            ),
            (
                "INSERT INTO shows (id, slug, title, description, language, author, owner_name, owner_email, categories,"
                " explicit, show_type, created_at, updated_at) VALUES (1, 'old-show', 'Old', 'd', 'en', 'a', 'o',"
                " 'o@example.org', '[[\"Technology\", null]]', false, 'episodic', '2021-01-01', '2021-01-01')",
                {},
            ),
            (
                "INSERT INTO episodes (id, show_id, slug, guid, title, summary, notes, episode_type, explicit, audio_id,"
                " transcript_cues, preview_key, created_at, updated_at) VALUES (1, 1, 'ep', 'g-1', 'Ep', 's',"
                " 'Some **bold** notes', 'full', false, 1, :cues, 'k', '2021-01-01', '2021-01-01')",
                {"cues": json.dumps(cues)},
            ),
            ("INSERT INTO chapters (episode_id, start, title) VALUES (1, 0, 'Intro')", {}),
        ]:
            db.session.execute(text(statement), values)
        db.session.commit()

        flask_migrate.upgrade()
        assert db.session.execute(text("SELECT count(*) FROM chapters")).scalar() == 1
        assert (
            decoded(db.session.execute(text("SELECT cues FROM transcript_cues WHERE episode_id = 1")).scalar()) == cues
        )
        notes_html, guid = db.session.execute(
            text("SELECT notes_html, podcast_guid FROM episodes JOIN shows ON shows.id = episodes.show_id")
        ).one()
        assert notes_html == "<p>Some <strong>bold</strong> notes</p>\n" and len(guid) == 36
        db.session.rollback()  # the migration's own connection must not wait on this session's locks

        flask_migrate.downgrade(revision="0003_accounts")
        assert decoded(db.session.execute(text("SELECT transcript_cues FROM episodes")).scalar()) == cues
        assert db.session.execute(text("SELECT count(*) FROM chapters")).scalar() == 1
        db.session.remove()
        db.engine.dispose()


def test_the_trust_migration_gives_each_credit_its_person_and_each_member_an_address(app_config):
    app = create_app(app_config)
    with app.app_context():
        flask_migrate.upgrade(revision="0004_feed")
        for statement in [
            "INSERT INTO media_files (id, public_id, backend, key, size, mime_type, extension, sha256, created_at) "
            "VALUES (1, 'p1', 'local', 'audio/1.mp3', 10, 'audio/mpeg', '.mp3', 'h', '2021-01-01')",
            "INSERT INTO shows (id, slug, title, description, language, author, owner_name, owner_email, categories,"
            " explicit, show_type, block, complete, private, locked, medium, funding, txt, podroll, season_names,"
            " created_at, updated_at) VALUES (1, 's', 'S', 'd', 'en', 'a', 'o', 'o@example.org', '[]', false,"
            " 'episodic', false, false, false, true, 'podcast', '[]', '[]', '[]', '{}', '2021-01-01', '2021-01-01')",
            "INSERT INTO episodes (id, show_id, slug, guid, title, summary, notes, episode_type, explicit, audio_id,"
            " preview_key, soundbites, notes_html, created_at, updated_at) VALUES (1, 1, 'ep', 'g', 'Ep', '', '',"
            " 'full', false, 1, 'k1', '[]', '', '2021-01-01', '2021-01-01')",
            "INSERT INTO people (id, name, href, img) VALUES (7, 'Alexander De Croo', 'https://www.premier.be/', NULL)",
            "INSERT INTO credits (person_id, show_id, role, \"group\", position) VALUES (7, 1, 'guest', 'cast', 0)",
            "INSERT INTO credits (person_id, episode_id, role, \"group\", position) VALUES (7, 1, 'guest', 'cast', 0)",
            "INSERT INTO users (id, email, password_hash, is_admin, session_version, created_at)"
            " VALUES (3, 'ed@example.org', 'x', false, 1, '2021-01-01')",
            "INSERT INTO show_members (user_id, show_id, role) VALUES (3, 1, 'editor')",
        ]:
            db.session.execute(text(statement))
        db.session.commit()
        db.session.rollback()

        flask_migrate.upgrade()
        assert (
            db.session.execute(text("SELECT name, href, img FROM credits")).all()
            == [("Alexander De Croo", "https://www.premier.be/", None)] * 2
        )
        assert db.session.execute(text("SELECT email, user_id FROM show_members")).one() == ("ed@example.org", 3)
        db.session.rollback()

        flask_migrate.downgrade(revision="0004_feed")
        assert (
            db.session.execute(text("SELECT p.name, p.href FROM credits c JOIN people p ON p.id = c.person_id")).all()
            == [("Alexander De Croo", "https://www.premier.be/")] * 2
        )
        assert db.session.execute(text("SELECT user_id FROM show_members")).scalar() == 3
        db.session.remove()
        db.engine.dispose()


def _schema(app) -> tuple[dict, str]:
    """Every table's columns, indexes, foreign keys and unique constraints, and the revision."""
    with app.app_context():
        inspector = inspect(db.engine)
        tables = {
            name: (
                [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in inspector.get_columns(name)
                ],
                sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(name)),
                sorted(
                    (
                        f["name"] or "",
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        tuple(f["referred_columns"]),
                    )
                    for f in inspector.get_foreign_keys(name)
                ),
                sorted((u["name"] or "", tuple(u["column_names"])) for u in inspector.get_unique_constraints(name)),
            )
            for name in inspector.get_table_names()
        }
        revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.remove()
        db.engine.dispose()
    return tables, revision


def test_the_suites_copy_of_a_migrated_database_is_what_an_upgrade_makes(
    app, app_config, other_instance, request, tmp_path
):
    """The suite migrates one database per process and copies it (SQLite) or runs its statements again
    (PostgreSQL) for every other test (conftest.migrate): the copy must be exactly an upgraded database."""
    copied = other_instance()  # the app fixture's database was the first: this one is a copy
    with contextlib.ExitStack() as stack:
        if request.config.getoption("stack") == "sqlite-local":
            url = f"sqlite:///{tmp_path / 'upgraded.db'}"
        else:
            url = stack.enter_context(postgres_schema())
        upgraded = create_app({**app_config, "database_url": url})
        with upgraded.app_context():
            flask_migrate.upgrade()
        tables, revision = _schema(upgraded)
    assert len(tables) > 20 and "episodes" in tables
    assert _schema(copied) == (tables, revision)
