"""What a browser may run and load on our pages: scripts and styles from the site's own files only, media
from the site and the stores its media URLs redirect to, framing for the embed alone."""

from __future__ import annotations

from urllib.parse import urlsplit

from fixtures.app import DEMO_EPISODES, policy, sign_in
from lxml import html


def _pages(client, episode) -> list[str]:
    show = f"/shows/test-show/{episode.slug}"
    return [
        "/",
        "/shows/test-show/",
        "/shows/test-show/?page=1",
        f"{show}/",
        f"{show}/embed",
        f"{show}/embed?theme=dark",
        f"/preview/{episode.preview_key}/",
        "/shows/missing/",
        "/admin/login",
        "/admin/",
        "/admin/shows/new",
        "/admin/shows/test-show/",
        "/admin/shows/test-show/episodes/new",
        f"/admin/shows/test-show/episodes/{episode.id}/",
        "/admin/shows/test-show/settings",
        "/admin/shows/test-show/analytics",
        "/admin/account",
        "/admin/tokens",
        "/admin/users",
    ]


def test_every_page_runs_only_the_sites_own_files(client, admin_user, make_episode):
    episode = make_episode(title="Policy", chapters=None)
    assert client.get("/admin/login").status_code == 200  # before signing in
    sign_in(client)
    for path in _pages(client, episode):
        r = client.get(path)
        assert r.mimetype == "text/html" and r.status_code in (200, 404), path
        rules = policy(r)
        assert rules["default-src"] == ["'none'"] and rules["script-src"] == ["'self'"], path
        assert rules["style-src"] == ["'self'"] and rules["base-uri"] == ["'none'"], path
        assert not any("unsafe" in source for sources in rules.values() for source in sources), path
        doc = html.fromstring(r.data)
        # Inline code the policy would block (and so would break the page): none, in any page.
        assert not doc.xpath("//script[not(@src) and not(@type='application/ld+json')]"), path
        assert not doc.xpath("//style | //*[@style]"), path
        assert not [a for a in doc.xpath("//@*") if a.attrname.startswith("on")], path
        assert not doc.xpath("//*[starts-with(normalize-space(@href), 'javascript:')]"), path
        for src in doc.xpath("//script/@src | //link[@rel='stylesheet']/@href"):
            assert src.startswith("/static/") and "?v=" in src, (path, src)
            with client.get(src) as asset:
                assert asset.status_code == 200, src


def test_media_the_pages_play_are_allowed_where_their_urls_redirect(client, make_episode):
    """On S3 the enclosure URL redirects to the store: <audio> and <img> must be allowed to follow."""
    episode = make_episode(title="Redirected", chapters=None, image=DEMO_EPISODES / "cover.jpg")
    for path in (f"/shows/test-show/{episode.slug}/", f"/shows/test-show/{episode.slug}/embed"):
        r = client.get(path)
        rules, doc = policy(r), html.fromstring(r.data)
        for directive, src in (("media-src", doc.xpath("//audio/@src")[0]), ("img-src", doc.xpath("//img/@src")[0])):
            with client.get(urlsplit(src).path) as target:
                pass
            if target.status_code == 302:
                where = urlsplit(target.location)
                assert f"{where.scheme}://{where.netloc}" in rules[directive], (directive, target.location)
            else:
                assert target.status_code == 200 and rules[directive][0] == "'self'"
