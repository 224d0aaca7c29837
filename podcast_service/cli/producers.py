"""CLI commands for accounts and episodes: what the admin and the API do, for scripts.

Episode commands print the episode as the API returns it (JSON), so a script
gets the same fields whichever way it drives the service.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import click

from ..accounts import service as accounts
from ..accounts import subscribers
from ..catalogue import coercion as fields
from ..catalogue.inputs import PUBLICATION_STATES, EpisodeInput
from ..catalogue.lists import EpisodeParts, episode_rows, listed
from ..catalogue.serialize import EpisodeLinks, episode_json
from ..catalogue.service import add_alternate, delete_episode, episode_input, save_episode
from ..core import urls
from ..core.extensions import db
from ..core.pagination import paginate
from ..models import ROLES, SCOPES, Episode, Show, Subscriber, utcnow

LIST_PAGE_SIZE = 200


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "producer"]), default="producer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of asking.")
def create_user(email: str, role: str, password_stdin: bool) -> None:
    """Create a user who signs in with EMAIL; asks for the password twice."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = accounts.create_user(email, password, admin=role == "admin")
    click.echo(f"created {role} {user.email}")


@click.command("create-token")
@click.argument("email")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), default=SCOPES, show_default=True)
@click.option("--name", default="command line", show_default=True, help="A name to recognise the token by.")
def create_token(email: str, scopes: tuple[str, ...], name: str) -> None:
    """Print a new API token of EMAIL; only its hash is kept, so save it now."""
    _token, secret = accounts.create_token(accounts.find_user(email), name, list(scopes))
    click.echo(secret)


@click.command("list-tokens")
@click.argument("email")
def list_tokens(email: str) -> None:
    """The tokens of EMAIL: prefix, name, scopes, state."""
    for token in accounts.find_user(email).tokens:
        state = "revoked" if token.revoked_at else f"last used {token.last_used_at or 'never'}"
        click.echo(f"{token.prefix}  {token.name}  {','.join(token.scopes)}  {state}")


@click.command("revoke-token")
@click.argument("email")
@click.argument("prefix")
def revoke_token(email: str, prefix: str) -> None:
    """Revoke the token of EMAIL that starts with PREFIX (as list-tokens shows it)."""
    matches = [t for t in accounts.find_user(email).tokens if t.prefix.startswith(prefix) and not t.revoked_at]
    if len(matches) != 1:
        raise click.ClickException(f"{len(matches)} live tokens of {email} start with {prefix!r}; need exactly one")
    accounts.revoke_token(matches[0])
    click.echo(f"revoked {matches[0].prefix}")


@click.command("add-member")
@click.argument("show_slug")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="editor", show_default=True)
def add_member(show_slug: str, email: str, role: str) -> None:
    """Give the user EMAIL a role on the show SHOW_SLUG."""
    accounts.set_member(accounts.show_by_slug(show_slug), accounts.find_user(email), role)
    click.echo(f"{email} is {role} of {show_slug}")


@click.command("upload-episode")
@click.argument("show_slug")
@click.argument("audio", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", help="Default: the file's title tag, else its name.")
@click.option("--description", help="Default: the file's comment tag.")
@click.option("--status", type=click.Choice(PUBLICATION_STATES[:3]), default="draft", show_default=True)
@click.option("--publish-at", help="ISO 8601 date and time with offset; needed for --status scheduled.")
def upload_episode(
    show_slug: str, audio: Path, title: str | None, description: str | None, status: str, publish_at: str | None
) -> None:
    """Add an episode to SHOW_SLUG from the AUDIO file; prints it as JSON."""
    given = {
        k: v
        for k, v in {"title": title, "description": description, "status": status, "publish_at": publish_at}.items()
        if v is not None
    }
    data = fields.episode_changes(given, EpisodeInput(), utcnow())
    _echo_json(episode_json(save_episode(accounts.show_by_slug(show_slug), data, audio, audio_name=audio.name)))


def _episode(show_slug: str, episode_id: int) -> Episode:
    show = accounts.show_by_slug(show_slug)
    return accounts.producer_episode(show, episode_id)


@click.command("set-episode-status")
@click.argument("show_slug")
@click.argument("episode_id", type=int)
@click.argument("status", type=click.Choice(PUBLICATION_STATES))
@click.option("--publish-at", help="ISO 8601 date and time with offset; needed for scheduled.")
def set_episode_status(show_slug: str, episode_id: int, status: str, publish_at: str | None) -> None:
    """Publish, schedule, unpublish an episode or make it a draft again; prints it as JSON."""
    episode = _episode(show_slug, episode_id)
    data = fields.episode_changes({"status": status, "publish_at": publish_at}, episode_input(episode), utcnow())
    _echo_json(episode_json(save_episode(episode.show, data, existing=episode)))


@click.command("set-transcript")
@click.argument("show_slug")
@click.argument("episode_id", type=int)
@click.argument("transcript", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def set_transcript(show_slug: str, episode_id: int, transcript: Path) -> None:
    """Attach a WebVTT or SRT TRANSCRIPT to an episode."""
    episode = _episode(show_slug, episode_id)
    data = replace(episode_input(episode), transcript=transcript)
    _echo_json(episode_json(save_episode(episode.show, data, existing=episode)))


@click.command("list-episodes")
@click.argument("show_slug")
def list_episodes(show_slug: str) -> None:
    """Every episode of SHOW_SLUG, whatever its status, as a JSON array.

    Read a page of LIST_PAGE_SIZE at a time and written as it goes, so a show
    of 10,000 episodes costs the memory of one page.
    """
    show = accounts.show_by_slug(show_slug)
    query = episode_rows().where(Episode.show_id == show.id).order_by(Episode.id)
    links = EpisodeLinks(show)
    click.echo("[")
    first, number = True, 1
    while True:
        page = paginate(query, number, LIST_PAGE_SIZE)
        episodes = listed(page.items)
        parts = EpisodeParts.read(episodes)
        for episode in episodes:
            text = json.dumps(episode_json(episode, links, parts), indent=2, ensure_ascii=False)
            click.echo(("" if first else ",\n") + "  " + text.replace("\n", "\n  "), nl=False)
            first = False
        db.session.expunge_all()
        if not page.has_next:
            break
        number += 1
    click.echo("\n]")


@click.command("delete-episode")
@click.argument("show_slug")
@click.argument("episode_id", type=int)
@click.confirmation_option(prompt="Delete the episode and its files for good?")
def delete_episode_command(show_slug: str, episode_id: int) -> None:
    """Delete an episode and its stored files."""
    delete_episode(_episode(show_slug, episode_id))
    click.echo(f"deleted episode {episode_id} of {show_slug}")


@click.command("add-alternate")
@click.argument("show_slug")
@click.argument("episode_id", type=int)
@click.argument("audio", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def add_alternate_command(show_slug: str, episode_id: int, audio: Path) -> None:
    """Add another rendition of an episode's audio (Opus beside MP3, say)."""
    episode = _episode(show_slug, episode_id)
    add_alternate(episode, audio, audio.name)
    _echo_json(episode_json(episode))


def _show(show_slug: str) -> Show:
    return accounts.show_by_slug(show_slug)


@click.command("add-subscriber")
@click.argument("show_slug")
@click.argument("name")
def add_subscriber(show_slug: str, name: str) -> None:
    """Give a listener of a private show a personal feed URL (printed once)."""
    show = _show(show_slug)
    if not show.private:
        raise click.ClickException(f"{show_slug} is public; make it private first (its settings)")
    _subscriber, token = subscribers.create_subscriber(show, name)
    click.echo(urls.subscriber_feed_url(token))


@click.command("list-subscribers")
@click.argument("show_slug")
def list_subscribers(show_slug: str) -> None:
    for s in _show(show_slug).subscribers:
        used = s.last_used_at.strftime("%Y-%m-%d") if s.last_used_at else "never"
        click.echo(f"{s.id}  {s.prefix}  {s.name}  last used {used}  {'revoked' if s.revoked_at else 'active'}")


@click.command("revoke-subscriber")
@click.argument("show_slug")
@click.argument("subscriber_id", type=int)
def revoke_subscriber(show_slug: str, subscriber_id: int) -> None:
    """Stop a subscriber's feed URL: their feed and files answer 403 from now on."""
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.show_id != _show(show_slug).id:
        raise click.ClickException(f"{show_slug} has no subscriber {subscriber_id}")
    subscribers.revoke_subscriber(subscriber)
    click.echo(f"revoked {subscriber.prefix} ({subscriber.name})")


COMMANDS = (
    create_user,
    create_token,
    list_tokens,
    revoke_token,
    add_member,
    upload_episode,
    set_episode_status,
    set_transcript,
    list_episodes,
    delete_episode_command,
    add_alternate_command,
    add_subscriber,
    list_subscribers,
    revoke_subscriber,
)
