"""One programme in several languages: a Dutch and a French show (and their episodes) named as each other's versions.

Shows that share a `version_group` are versions of one programme, one per
language; episodes that share one are the same episode in those shows. Their
public pages link to each other (the language switch and `hreflang`
alternates: core/i18n.py). Pairing writes to every show or episode it names, so a
producer pairs only shows they edit; naming the versions again replaces the
group (shows left out keep to themselves); naming none leaves it.
"""

from __future__ import annotations

import uuid

from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts import service as accounts
from ..core.errors import ValidationError
from ..core.extensions import db
from ..core.i18n import primary, supported
from ..models import Episode, Show, User, utcnow


def set_show_versions(user: User, show: Show, slugs: list[str]) -> list[Show]:
    """Make `show` and the shows named by `slugs` the versions of one programme; returns the others."""
    others = []
    for slug in dict.fromkeys(s.strip() for s in slugs if s.strip()):
        if slug == show.slug:
            continue
        other = accounts.producer_show(user, slug)  # a show this producer does not edit does not exist to them
        others.append(other)
    languages = [primary(s.language) for s in (show, *others)]
    if len(set(languages)) != len(languages):
        same = ", ".join(sorted({lang for lang in languages if languages.count(lang) > 1}))
        raise ValidationError(
            _(
                "each version must be in another language: two of these shows have the same one (%(languages)s)",
                languages=same,
            )
        )
    group = str(uuid.uuid4()) if others else None
    for member in (show, *others):
        member.version_group = group
    db.session.commit()
    return others


def show_versions(show: Show) -> list[Show]:
    """The other public shows of the programme, in a language the site speaks, by language."""
    if show.version_group is None:
        return []
    found = db.session.scalars(
        select(Show).where(Show.version_group == show.version_group, Show.id != show.id, Show.private.is_(False))
    ).all()
    return sorted((s for s in found if supported(s.language)), key=lambda s: primary(s.language))


def set_episode_versions(user: User, episode: Episode, addresses: list[str]) -> list[Episode]:
    """Pair `episode` with episodes of its show's versions, each named as `show-slug/episode-slug`."""
    shows = {s.slug: s for s in paired_shows(episode.show)}
    others = []
    for address in dict.fromkeys(a.strip().strip("/") for a in addresses if a.strip()):
        show_slug, _slash, episode_slug = address.rpartition("/")
        show = shows.get(show_slug)
        if show is None:
            raise ValidationError(
                _(
                    "%(address)s: give SHOW/EPISODE, SHOW being a version of this show (the show's "
                    "settings name its versions)",
                    address=repr(address),
                )
            )
        accounts.require_role(user, show)
        other = db.session.scalar(select(Episode).where(Episode.show_id == show.id, Episode.slug == episode_slug))
        if other is None:
            raise ValidationError(
                _(
                    "%(address)s: the show %(show)s has no episode %(episode)s",
                    address=repr(address),
                    show=repr(show_slug),
                    episode=repr(episode_slug),
                )
            )
        others.append(other)
    if len({o.show_id for o in others}) != len(others):
        raise ValidationError(_("name at most one episode of each version"))
    group = str(uuid.uuid4()) if others else None
    for member in (episode, *others):
        member.version_group = group
    db.session.commit()
    return others


def episode_versions(episode: Episode) -> list[Episode]:
    """The same episode in the programme's other public shows, where it is published."""
    if episode.version_group is None or episode.show.version_group is None:
        return []
    now = utcnow()
    found = db.session.scalars(
        select(Episode)
        .join(Show)
        .where(
            Episode.version_group == episode.version_group,
            Episode.id != episode.id,
            Show.version_group == episode.show.version_group,
            Show.private.is_(False),
        )
    ).all()
    return [e for e in found if e.visible_at(now) and supported(e.show.language)]


def paired_shows(show: Show) -> list[Show]:
    """Every other show of the programme, private ones included (the admin lists them)."""
    if show.version_group is None:
        return []
    return list(
        db.session.scalars(
            select(Show).where(Show.version_group == show.version_group, Show.id != show.id).order_by(Show.slug)
        )
    )


def paired_episodes(episode: Episode) -> list[Episode]:
    """Every other episode paired with this one (the admin lists them), published or not."""
    if episode.version_group is None:
        return []
    return list(
        db.session.scalars(
            select(Episode).where(Episode.version_group == episode.version_group, Episode.id != episode.id)
        )
    )
