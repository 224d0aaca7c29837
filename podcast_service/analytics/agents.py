"""Which app, browser, library or bot made a request, from its User-Agent (and Referer for browsers).

The patterns are the Open Podcast Analytics Working Group's user-agents-v2
(MIT, vendored in user_agents/ with its licence; `tools/update-user-agents.sh`
refreshes them), applied as its README says: bots, then apps, libraries,
browsers, first match wins. A user agent none of them knows is checked
against crawlerdetect's list of crawlers; what is still unknown counts, as
"Unknown" (most unrecognised agents are small podcast apps).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from crawlerdetect import CrawlerDetect

log = logging.getLogger(__name__)

PATTERNS = Path(__file__).parent / "user_agents"
KINDS = ("bots", "apps", "libraries", "browsers")


@dataclass(frozen=True)
class Agent:
    name: str
    kind: str  # "bot", "app", "library", "browser" or "unknown"

    @property
    def bot(self) -> bool:
        return self.kind == "bot"


def _load(name: str) -> list[tuple[re.Pattern, str]]:
    entries = json.loads((PATTERNS / f"{name}.json").read_text(encoding="utf-8"))["entries"]
    compiled = []
    for entry in entries:
        try:
            compiled.append((re.compile(entry["pattern"]), entry["name"]))
        except re.error as e:  # a pattern Python's engine reads differently: skipped, not fatal
            log.warning("user-agent pattern for %s skipped: %s", entry["name"], e)
    return compiled


@functools.cache
def _patterns() -> list[tuple[str, list[tuple[re.Pattern, str]]]]:
    return [(kind, _load(kind)) for kind in KINDS]


@functools.cache
def _crawlers() -> CrawlerDetect:
    return CrawlerDetect()


@functools.lru_cache(maxsize=8192)
@functools.lru_cache(maxsize=4096)
def classify(user_agent: str) -> Agent:
    """The agent behind a User-Agent header (newlines removed first, as the patterns' README asks).

    Remembered for the last few thousand agents: an app's requests all carry the same string, and
    running a few hundred patterns on it is the dearest part of recording a request."""
    user_agent = user_agent.replace("\r", "").replace("\n", "")
    for kind, patterns in _patterns():
        for pattern, name in patterns:
            if pattern.search(user_agent):
                return Agent(name, kind.removesuffix("s") if kind != "libraries" else "library")
    if not user_agent.strip() or _crawlers().isCrawler(user_agent):
        return Agent("Bot" if user_agent.strip() else "No user agent", "bot")
    return Agent("Unknown", "unknown")


@functools.cache
def _referrers() -> list[tuple[re.Pattern, str]]:
    return _load("referrers")


def web_app(referrer: str) -> str | None:
    """A known web app or player (Spotify's web player, a host's embed...) from a browser's Referer."""
    for pattern, name in _referrers():
        if pattern.search(referrer):
            return name
    return None
