"""The public site in chromium, as visitors and their browsers' privacy and accessibility tools see it.

Screenshots of the episode page, the show page and the embed, at desktop and phone width, are written to
tests/screenshots/ (ignored by git) for people to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fixtures.app import PASSWORD, wait_for
from fixtures.browser import EPISODE, PRODUCER, until

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # see test_browser.py

AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).parent / "screenshots"
SHOW = "/shows/cyber-security-coalition/"
PUBLIC_PAGES = {
    "home": "/",
    "show": SHOW,
    "episode": EPISODE,
    "search": SHOW + "search?q=digital+future",
    "embed": EPISODE + "embed",
    "embed-dark": EPISODE + "embed?theme=dark",
}
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_public_pages_set_no_cookie_and_ask_nothing_of_other_hosts(live_demo, page, app_config):
    base, _duration = live_demo
    # The site itself, and with S3 the store its media URLs redirect to; nothing else.
    allowed = {base, *(origin(u) for u in [app_config.get("s3_endpoint_url")] if u)}
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    for path in PUBLIC_PAGES.values():
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.cookie") == "", path
    page.goto(base + EPISODE)
    page.evaluate("document.getElementById('player').play()")
    until(page, "document.getElementById('player').currentTime > 0.5")
    assert page.context.cookies() == []
    assert requested and {origin(u) for u in requested if not u.startswith("data:")} <= allowed, requested


def axe_violations(page) -> list[str]:
    """Serious and critical findings of axe-core on the page as it is now (evaluated over the debugging
    protocol, so the page's Content-Security-Policy stays in force)."""
    page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_no_serious_problem_on_public_pages_and_the_upload_page(live_demo, page):
    base, _duration = live_demo
    found = {}
    for name, path in PUBLIC_PAGES.items():
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        found[name] = axe_violations(page)
    page.goto(base + "/admin/login")
    page.get_by_label("E-mail address").fill(PRODUCER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(base + "/admin/shows/cyber-security-coalition/episodes/new")
    assert page.url.endswith("/episodes/new") and page.locator("input#audio").count() == 1
    found["upload"] = axe_violations(page)
    assert found == {name: [] for name in found}


def test_pages_fit_a_phone_and_a_desktop_and_are_photographed(live_demo, page):
    base, _duration = live_demo
    SCREENSHOTS.mkdir(exist_ok=True)
    for width_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        for name in ("episode", "show", "embed", "embed-dark"):
            # The embed at the size of the <iframe> its code makes (narrower on a phone's page).
            page.set_viewport_size({"width": min(640, size["width"] - 30), "height": 200} if "embed" in name else size)
            page.goto(base + PUBLIC_PAGES[name])
            page.wait_for_load_state("networkidle")
            # Nothing wider than the screen: no sideways scrolling.
            assert page.evaluate("document.scrollingElement.scrollWidth") <= page.viewport_size["width"], name
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width_name}.png"), full_page=name != "embed")
        page.set_viewport_size(size)
        page.goto(base + SHOW)
        cover, title = page.locator("section.card img.cover").bounding_box(), page.locator("h1").bounding_box()
        if width_name == "phone":  # the cover above the title, not beside it splitting it
            assert cover["y"] + cover["height"] <= title["y"] + 1
        else:
            assert cover["x"] > title["x"] + title["width"] / 2


def test_the_downloads_dashboard_shows_what_apps_fetched(live_demo, page):
    """Three apps download the episode, one only asks (HEAD), one probes: the chart and the tables say three."""
    import re
    import urllib.error
    import urllib.request

    base, _duration = live_demo
    feed = urllib.request.urlopen(f"{base}{SHOW}feed.xml", timeout=10).read().decode()
    enclosure = re.search(r'<enclosure url="([^"]+)"', feed).group(1)
    asks = [
        ("GET", "Podcasts/1555.2.1 CFNetwork/1410.0.3 Darwin/22.6.0", {}),
        ("GET", "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)", {}),
        ("GET", "AntennaPod/3.2.0", {"Range": "bytes=0-"}),
        ("HEAD", "Pocket Casts", {}),
        ("GET", "gPodder/3.11.1 (+http://gpodder.org/) Linux", {"Range": "bytes=0-1"}),
    ]

    class Stay(urllib.request.HTTPRedirectHandler):  # with S3 the service answers 302: that is what it counts
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(Stay)
    for method, agent, headers in asks:
        request = urllib.request.Request(enclosure, method=method, headers={"User-Agent": agent, **headers})
        try:
            with opener.open(request, timeout=10) as r:
                r.read()
        except urllib.error.HTTPError as e:
            assert e.code == 302
            e.close()
    page.goto(base + "/admin/login")
    page.get_by_label("E-mail address").fill(PRODUCER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    dashboard = base + "/admin/shows/cyber-security-coalition/analytics?days=7"

    def total() -> bool:  # the rows reach the database within a second (the writer's batch)
        page.goto(dashboard)
        return page.inner_text("strong.total") == "3"

    wait_for(total, what="the dashboard showing three downloads")
    bars = page.locator("rect.bar")
    assert bars.count() == 7 and bars.last.get_attribute("data-downloads") == "3"
    assert "3 downloads" in bars.last.text_content()  # its <title>, the tooltip
    apps = {
        row.locator("td").first.inner_text(): row.locator("td").last.inner_text()
        for row in page.locator("table.apps tr").all()[1:]
    }
    assert apps == {"Apple Podcasts": "1", "Overcast": "1", "AntennaPod": "1"}
    assert page.locator("table.episodes tr").nth(1).locator("td").last.inner_text() == "3"
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "downloads-dashboard.png"), full_page=True)


# Words of the page's own chrome in English: none may be left on a Dutch, French or German page.
ENGLISH_CHROME = (
    "Chapters",
    "Transcript",
    "Show notes",
    "Download",
    "Embed this episode",
    "Speed",
    "left",
    "Search",
    "People",
    "Season",
    "episode",
    "Copy",
)


@pytest.mark.parametrize("language", ["en", "nl", "fr", "de"])
def test_the_episode_page_in_each_language_is_photographed_and_has_no_english_chrome(
    live_demo,
    page,
    language,
):
    base, _ = live_demo
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base}{EPISODE}?lang={language}")
    until(page, "document.querySelector('.controls') !== null")  # player.js has put the translated controls in
    assert page.evaluate("document.documentElement.lang") == language
    # The page's own words: what the producer wrote is marked with the show's language and set aside.
    chrome = page.evaluate("""() => {
        const body = document.body.cloneNode(true);
        body.querySelectorAll('[lang], script, template, svg').forEach((node) => node.remove());
        return body.innerText;
    }""")
    left = [word for word in ENGLISH_CHROME if re.search(rf"\b{word}\b", chrome)]
    if language == "en":
        assert "Chapters" in chrome and "Speed" in chrome
    else:
        assert left == [], f"English left in the {language} page: {left}"
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"episode-{language}.png"), full_page=True)


ENGLISH_ADMIN_CHROME = (
    "Upload an episode",
    "Drop the audio file",
    "choose it",
    "served as it is",
    "Shows",
    "Account",
    "Sign out",
    "API tokens",
    "draft",
)


def test_the_upload_page_in_each_language_is_photographed_and_has_no_english_chrome(live_demo, page):
    base, _ = live_demo
    page.set_viewport_size(DESKTOP)
    page.goto(base + "/admin/login")
    page.fill("#email", PRODUCER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    SCREENSHOTS.mkdir(exist_ok=True)
    for language in ("nl", "fr", "de", "en"):
        page.goto(base + "/admin/account")
        page.select_option("#language", language)
        page.click("form[action$='/account/language'] button")
        page.goto(base + "/admin/shows/cyber-security-coalition/episodes/new")
        assert page.evaluate("document.documentElement.lang") == language
        chrome = page.evaluate("""() => {
            const body = document.body.cloneNode(true);
            body.querySelectorAll('[lang], script, template').forEach((node) => node.remove());
            body.querySelectorAll('.muted').forEach((node) => node.remove());  // the producer's e-mail
            return body.innerText;
        }""")
        left = [words for words in ENGLISH_ADMIN_CHROME if re.search(rf"\\b{words}\\b", chrome)]
        if language == "en":
            assert "Upload an episode" in chrome
        else:
            assert left == [], f"English left in the {language} upload page: {left}"
        page.screenshot(path=str(SCREENSHOTS / f"upload-{language}.png"), full_page=True)
