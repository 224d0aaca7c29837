"""Importing a podcast from the admin: the import runs on the job queue, its page shows its progress, and a
producer can neither reach into another producer's show nor see their imports."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from fixtures.app import PASSWORD, csrf_token, sign_in
from fixtures.browser import PRODUCER, until
from fixtures.old_host import FIRST, channel
from sqlalchemy import select

from podcast_service import create_app
from podcast_service.accounts import service as accounts
from podcast_service.core import locks as run_locks
from podcast_service.core.extensions import db
from podcast_service.imports import background
from podcast_service.jobs import jobs
from podcast_service.models import Episode, FeedImport, Show, ShowMember, utcnow


@pytest.fixture
def app_config(app_config):
    return {**app_config, "import_allow_private_networks": True}


@pytest.fixture
def producer(app, client):
    user = accounts.create_user("producer@example.org", PASSWORD)
    assert sign_in(client, "producer@example.org").status_code == 302
    return user


def start(client, source: str, **fields: str):
    return client.post(
        "/admin/imports/new", data={"source": source, "csrf_token": csrf_token(client, "/admin/imports/new"), **fields}
    )


def the_import() -> FeedImport:
    db.session.remove()
    return db.session.scalars(select(FeedImport).order_by(FeedImport.id.desc())).first()


def test_a_producer_imports_a_podcast_and_becomes_its_owner(client, producer, old_host):
    response = start(client, old_host(FIRST), slug="moved")
    assert response.status_code == 302
    page = client.get(response.location).text
    assert "Done" in page and "2 of 2 episodes" in page and "2 imported, 0 already here, 0 failed" in page
    show = db.session.scalar(select(Show).where(Show.slug == "moved"))
    assert producer.role_in(show) == "owner" and len(show.episodes) == 2
    status = client.get(response.location + ".json").json
    assert (status["state"], status["imported"], status["show"]) == ("done", 2, "moved")
    assert status["bytes_fetched"] == sum(e.audio.size for e in show.episodes)
    assert "Import a podcast" in client.get("/admin/").text
    assert old_host(FIRST) in client.get("/admin/imports/new").text  # listed among the producer's imports


@pytest.mark.jobs_wait
def test_the_import_waits_on_the_queue_and_its_page_follows_it(client, producer, old_host):
    response = start(client, old_host(FIRST))
    row = the_import()
    assert row.state == "queued" and jobs().huey.pending_count() == 1  # nothing imported in the request
    page = client.get(response.location).text
    assert "Waiting for a worker" in page and f'data-poll="/admin/imports/{row.id}.json"' in page
    assert background.run(row.id) is None  # the worker's side
    assert client.get(response.location + ".json").json["state"] == "done"
    assert "data-poll" not in client.get(response.location).text


@pytest.mark.parametrize(
    "source",
    [
        "",
        "not a url",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://example.org/feed.xml",
        "https://example.org/" + "a" * 2100,
    ],
)
def test_what_is_not_a_feed_address_is_refused_on_the_form(client, producer, source):
    response = start(client, source)
    assert response.status_code == 422 and "https://" in response.text
    assert the_import() is None


def test_a_feed_on_a_private_address_fails_with_the_reason(app, client, producer, old_host):
    app.config["PODCAST"] = replace(app.config["PODCAST"], import_allow_private_networks=False)
    response = start(client, old_host(FIRST))
    page = client.get(response.location).text
    assert "Failed" in page and "private, loopback or reserved address" in page
    assert db.session.scalar(select(Show)) is None


GUID = "917393e3-1b1e-5cef-ace4-edaa54e1f810"
LOCKED = f'<podcast:locked owner="boss@old.example.org">yes</podcast:locked><podcast:guid>{GUID}</podcast:guid>'


def proof(code: str) -> str:
    return f'<podcast:txt purpose="verify">{code}</podcast:txt>'


def test_a_locked_feed_comes_over_only_with_the_proof_the_import_asks_for(client, producer, old_host):
    url = old_host.write(channel(LOCKED))
    location = start(client, url).location
    page = client.get(location).text
    assert "Failed" in page and "boss@old.example.org" in page
    code = the_import().verify_code
    assert code.startswith(background.VERIFY_PREFIX) and code in page
    # Ticking a box, as the form once offered, proves nothing.
    page = client.get(start(client, url, override_lock="on").location).text
    assert "Failed" in page and the_import().verify_code == code  # the same code, for the same feed
    assert db.session.scalar(select(Show)) is None
    # The producer puts the code into the feed at the old host and starts the import again.
    old_host.write(channel(LOCKED + proof(code)))
    assert client.post(location + "/restart", data={"csrf_token": csrf_token(client, "/admin/")}).status_code == 302
    page = client.get(location).text
    assert "Done" in page and "1 imported" in page
    show = db.session.scalar(select(Show))
    assert show.podcast_guid == GUID and show.guid_proven and show.locked
    assert [code, "verify"] not in show.txt  # the proof was for the move, not for the feed here


def test_a_stranger_cannot_keep_a_feeds_owner_out_nor_learn_that_it_is_here(app, client, producer, old_host):
    """A stranger imports an unlocked feed first; its owner's import is neither refused nor told about the
    stranger's show, and proving the feed takes its podcast:guid over."""
    url = old_host.write(channel(f"<podcast:guid>{GUID}</podcast:guid>"))
    page = client.get(start(client, url, slug="stolen").location).text
    assert "Done" in page
    stolen = db.session.scalar(select(Show).where(Show.slug == "stolen"))
    assert stolen.podcast_guid == GUID and not stolen.guid_proven
    # A locked feed cannot be taken at all without its owner's proof.
    locked = old_host.write(channel(LOCKED), name="locked.xml")
    assert "Failed" in client.get(start(client, locked, slug="stolen-too").location).text
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})

    accounts.create_user("owner@old.example.org", PASSWORD)
    assert sign_in(client, "owner@old.example.org").status_code == 302
    page = client.get(start(client, url, slug="mine").location).text
    assert "Done" in page and "stolen" not in page and "do not edit" not in page
    mine = db.session.scalar(select(Show).where(Show.slug == "mine"))
    assert mine.podcast_guid != GUID  # not proven: the feed's guid stays where it is for now
    code = the_import().verify_code
    assert code in page  # the import says how to claim it
    old_host.write(channel(f"<podcast:guid>{GUID}</podcast:guid>" + proof(code)))
    assert "Done" in client.get(start(client, url).location).text
    db.session.remove()
    mine, stolen = (db.session.scalar(select(Show).where(Show.slug == slug)) for slug in ("mine", "stolen"))
    assert (mine.podcast_guid, mine.guid_proven) == (GUID, True)
    assert stolen.podcast_guid not in (GUID, None)  # the stranger's show has a guid of its own now
    assert [m.email for m in db.session.scalars(select(ShowMember).where(ShowMember.show_id == stolen.id))] == [
        "producer@example.org"
    ]


def test_nobody_reaches_another_producers_show_or_imports(app, client, producer, old_host):
    url = old_host(FIRST)
    first = start(client, url, slug="moved").location
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    accounts.create_user("other@example.org", PASSWORD)
    assert sign_in(client, "other@example.org").status_code == 302
    for path in (first, first + ".json"):
        assert client.get(path).status_code == 404
    assert client.post(first + "/restart", data={"csrf_token": csrf_token(client, "/admin/")}).status_code == 404
    assert "moved" not in client.get("/admin/imports/new").text
    # The same feed again: a show of this producer's own; the first producer's is neither touched nor named.
    page = client.get(start(client, url).location).text
    assert "Done" in page and "moved" not in page
    show = db.session.scalar(select(Show).where(Show.slug == "moved"))
    assert [m.email for m in db.session.scalars(select(ShowMember).where(ShowMember.show_id == show.id))] == [
        "producer@example.org"
    ] and len(show.episodes) == 2
    # And a slug taken by a show this producer does not edit is refused too.
    page = client.get(start(client, old_host(FIRST, title="Another Show", name="other.xml"), slug="moved").location)
    assert "Failed" in page.text and "already a show" in page.text


def test_anonymous_requests_and_forged_forms_are_turned_away(client, app):
    assert client.get("/admin/imports/new").status_code == 302
    assert client.post("/admin/imports/new", data={"source": "https://example.org/feed.xml"}).status_code == 401
    accounts.create_user("producer@example.org", PASSWORD)
    sign_in(client, "producer@example.org")
    assert client.post("/admin/imports/new", data={"source": "https://example.org/feed.xml"}).status_code == 400
    assert the_import() is None


def test_a_stopped_import_is_started_again_and_goes_on_where_it_stopped(client, producer, old_host):
    url = old_host(FIRST)
    location = start(client, url, slug="moved").location
    row = the_import()
    # Its worker died with one episode left: the row says running, and nothing moves any more.
    db.session.delete(db.session.scalars(select(Episode)).first())
    row.state, row.updated_at = "running", utcnow() - timedelta(minutes=11)
    row.lease_until = utcnow() - timedelta(minutes=1)  # no item done for longer than its lease
    db.session.commit()
    page = client.get(location).text
    assert "Stopped" in page and "Start it again" in page
    token = csrf_token(client, location)
    assert client.post(location + "/restart", data={"csrf_token": token}).status_code == 302
    page = client.get(location).text
    assert "Done" in page and "1 imported, 1 already here" in page
    assert client.post(location + "/restart", data={"csrf_token": token}).status_code == 409  # done: nothing to do


def test_an_import_waits_while_another_runs_and_a_lost_one_is_queued_again(client, producer, old_host):
    with run_locks.held("import-feed"):
        location = start(client, old_host(FIRST)).location
    row = the_import()
    assert row.state == "queued" and "waiting for another import" in client.get(location).text
    row.updated_at = utcnow() - timedelta(minutes=3)  # and its message to try again was lost
    db.session.commit()
    jobs().sweep()
    assert the_import().state == "done"
    assert re.search(r"2 imported", client.get(location).text)


@pytest.mark.jobs_wait
def test_in_a_browser_the_page_follows_the_import_until_it_is_done(
    app_config,
    live_demo,
    page,
    old_host,
):
    base, _ = live_demo
    page.goto(base + "/admin/login")
    page.fill("#email", PRODUCER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click("text=Import a podcast")
    page.fill("#source", old_host(FIRST))
    page.fill("#slug", "moved")
    page.click("button:text-is('Import')")
    assert page.locator(".import-label").inner_text() == "Waiting for a worker"
    worker = create_app({**app_config, "base_url": base})  # the worker: another process on the same database
    with worker.app_context():
        background.run(int(page.url.rsplit("/", 1)[1]))
        db.session.remove()
        db.engine.dispose()
    # The page asks every two seconds, and reloads to show the outcome once the import has ended (while the
    # new page is being read, the label may not be there yet).
    until(page, "document.querySelector('.import-label')?.textContent === 'Done'")
    assert "2 imported, 0 already here, 0 failed" in page.locator(".progress-text").inner_text()
    assert page.locator("text=Open Old Host Show").count() == 1


@pytest.mark.jobs_wait
def test_an_import_another_worker_holds_is_not_run_twice_and_a_dead_ones_is_taken_over(client, producer, old_host):
    """A message delivered twice finds the import's lease live and does nothing; once the lease runs out (its
    worker died), the import can be run, and a worker that lost its lease stops without writing."""
    location = start(client, old_host(FIRST), slug="moved").location
    row = the_import()
    import_id = row.id
    assert row.state == "queued"
    token = background.LEASES.claim(FeedImport.id == import_id, state="running")  # a worker at it
    assert background.run(import_id) is None
    assert the_import().state == "running" and db.session.scalar(select(Episode.id)) is None
    assert not background.may_restart(the_import())  # its worker is alive
    db.session.execute(FeedImport.__table__.update().values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert "Start it again" in client.get(location).text  # the worker died
    assert background.run(import_id) is None
    assert the_import().state == "done" and len(db.session.scalars(select(Episode)).all()) == 2
    assert not background.LEASES.release(token, state="failed")  # the dead worker's token writes nothing
    assert the_import().state == "done"
