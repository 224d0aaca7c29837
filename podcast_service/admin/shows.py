"""Shows in the admin: the list, creating one, its settings, cover art and members."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ..accounts import service as accounts
from ..accounts import subscribers
from ..catalogue import coercion as fields
from ..catalogue import languages as versions
from ..catalogue.apple import show_warnings
from ..catalogue.categories import APPLE_CATEGORIES
from ..catalogue.inputs import ShowInput
from ..catalogue.service import listed, save_show
from ..core import urls
from ..core.errors import PodcastServiceError
from ..core.extensions import db
from ..core.pagination import page_number, paginate
from ..core.uploads import accepts_uploads, uploaded
from ..models import Episode, Show, ShowMember, Subscriber, status_at, utcnow
from . import bp


@bp.get("/")
def dashboard() -> str:
    """The producer's shows with their episode counts, counted by the database in one query."""
    shows = accounts.visible_shows(current_user)
    counts = dict(
        db.session.execute(
            select(Episode.show_id, func.count())
            .where(Episode.show_id.in_([s.id for s in shows]))
            .group_by(Episode.show_id)
        ).all()
    )
    return render_template("admin/dashboard.html", shows=[(s, counts.get(s.id, 0)) for s in shows])


def _show_form(template_data: dict, error: str | None = None, status: int = 200) -> tuple[str, int]:
    show = template_data["show"]
    members = (
        []
        if show is None
        else db.session.scalars(select(ShowMember).where(ShowMember.show_id == show.id).order_by(ShowMember.id)).all()
    )
    return render_template(
        "admin/show_form.html", categories=APPLE_CATEGORIES, error=error, members=members, **template_data
    ), status


@bp.route("/shows/new", methods=["GET", "POST"])
@accepts_uploads
def new_show() -> Response | tuple[str, int]:
    blank = ShowInput(slug="", title="", description="", owner_email=current_user.email)
    if request.method == "GET":
        return _show_form({"data": blank, "show": None})
    form = request.form.to_dict()
    try:
        data = fields.show_changes(form, blank)
        image = uploaded(request.files.get("image"), lazy_gettext("cover art"))
        show = save_show(data, image=image[0] if image else None, new=True)
    except PodcastServiceError as e:
        return _show_form({"data": blank, "form": form, "show": None}, e.for_client, e.http_status)
    if not current_user.is_admin:
        accounts.set_member(show, current_user, "owner")
    flash(gettext("Show %(title)r created. Upload its first episode.", title=show.title))
    return redirect(url_for("admin.show", slug=show.slug))


@bp.get("/shows/<slug>/")
def show(slug: str) -> str:
    return _show_page(accounts.producer_show(current_user, slug))


# Episodes per page of a show's admin page, as many as its public page shows.
ADMIN_PAGE_SIZE = 50


def _show_page(show: Show, new_feed_url: str | None = None) -> str:
    query = listed().where(Episode.show_id == show.id).order_by(Episode.created_at.desc(), Episode.id.desc())
    page = paginate(query, page_number(request.args.get("page")), ADMIN_PAGE_SIZE)
    subscribers = None
    if show.private:
        subscribers = paginate(
            select(Subscriber).where(Subscriber.show_id == show.id).order_by(Subscriber.id.desc()),
            page_number(request.args.get("subscribers_page")),
            ADMIN_PAGE_SIZE,
        )
    now = utcnow()
    return render_template(
        "admin/show.html",
        show=show,
        page=page,
        episodes=[(row, status_at(row, now).value) for row in page.items],
        role=current_user.role_in(show),
        warnings=show_warnings(show),
        new_feed_url=new_feed_url,
        subscribers=subscribers,
    )


@bp.route("/shows/<slug>/settings", methods=["GET", "POST"])
@accepts_uploads
def show_settings(slug: str) -> Response | tuple[str, int]:
    show = accounts.producer_show(current_user, slug, owner=True)
    current = fields.show_input(show)
    if request.method == "GET":
        return _show_form({"data": current, "show": show})
    form = request.form.to_dict()
    form.pop("slug", None)  # the feed URL is built from it
    try:
        data = fields.show_changes(form, current)
        image = uploaded(request.files.get("image"), lazy_gettext("cover art"))
        save_show(data, image=image[0] if image else None)
    except PodcastServiceError as e:
        db.session.rollback()
        return _show_form({"data": current, "form": form, "show": show}, e.for_client, e.http_status)
    flash(gettext("Show settings saved."))
    return redirect(url_for("admin.show_settings", slug=slug))


@bp.post("/shows/<slug>/members")
def add_member(slug: str) -> Response | tuple[str, int]:
    show = accounts.producer_show(current_user, slug, owner=True)
    try:
        member = accounts.add_member(show, request.form.get("email", ""), request.form.get("role", ""))
        flash(
            gettext(
                "%(email)s has the role %(role)s on this show. Without an account yet, the role starts when "
                "an admin creates one for this address.",
                email=member.email,
                role=gettext(member.role),
            )
        )
    except PodcastServiceError as e:
        flash(e.for_client, "error")
    return redirect(url_for("admin.show_settings", slug=slug))


@bp.post("/shows/<slug>/versions")
def set_versions(slug: str) -> Response:
    """Name the shows that are this one in other languages (their pages then link to each other)."""
    show = accounts.producer_show(current_user, slug, owner=True)
    try:
        others = versions.set_show_versions(current_user, show, request.form.get("versions", "").splitlines())
        flash(
            gettext("Versions in other languages: %(shows)s.", shows=", ".join(o.slug for o in others))
            if others
            else gettext("This show has no versions in other languages now.")
        )
    except PodcastServiceError as e:
        db.session.rollback()
        flash(e.for_client, "error")
    return redirect(url_for("admin.show_settings", slug=slug) + "#versions")


@bp.post("/shows/<slug>/members/<int:member_id>/remove")
def remove_member(slug: str, member_id: int) -> Response:
    show = accounts.producer_show(current_user, slug, owner=True)
    member = db.session.get(ShowMember, member_id)
    if member is not None and member.show_id == show.id:
        db.session.delete(member)
        db.session.commit()
    return redirect(url_for("admin.show_settings", slug=slug))


@bp.post("/shows/<slug>/subscribers")
def add_subscriber(slug: str) -> Response | str:
    """A personal feed URL, shown once in this response (only its hash is stored)."""
    show = accounts.producer_show(current_user, slug, owner=True)
    try:
        _subscriber, token = subscribers.create_subscriber(show, request.form.get("name", ""))
    except PodcastServiceError as e:
        flash(e.for_client, "error")
        return redirect(url_for("admin.show", slug=slug) + "#subscribers")
    return _show_page(show, urls.subscriber_feed_url(token))


@bp.post("/shows/<slug>/subscribers/<int:subscriber_id>/revoke")
def revoke_subscriber(slug: str, subscriber_id: int) -> Response:
    show = accounts.producer_show(current_user, slug, owner=True)
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is not None and subscriber.show_id == show.id:
        subscribers.revoke_subscriber(subscriber)
        flash(gettext("%(name)s’s feed URL no longer works.", name=subscriber.name))
    return redirect(url_for("admin.show", slug=slug) + "#subscribers")
