"""A feedgen extension for Apple's itunes: namespace, as Apple documents it today.

feedgen ships a podcast extension, but it validates against Apple's older
rules: it refuses `itunes:explicit` "true"/"false" (Apple now asks for
exactly those) and writes `itunes:block` as yes/no. This one writes what
Apple's current specification asks for and nothing more.
"""

from __future__ import annotations

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"


def _text(parent, tag: str, value: object) -> None:  # noqa: ANN001
    if value is not None and value != "":
        xml_elem(f"{{{NS}}}{tag}", parent).text = str(value)


def _bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


class ItunesExtension(BaseExtension):
    """Channel tags: author, owner, image, categories, explicit, type, block, complete, new-feed-url, summary."""

    def __init__(self) -> None:
        self.summary: str | None = None
        self.author: str | None = None
        self.owner: tuple[str, str] | None = None
        self.image: str | None = None
        self.categories: list[list[str | None]] = []
        self.explicit: bool | None = None
        self.type: str | None = None
        self.title: str | None = None
        self.block: bool = False
        self.complete: bool = False
        self.new_feed_url: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": NS}

    def extend_rss(self, rss_feed):  # noqa: ANN001, ANN201
        channel = rss_feed[0]
        _text(channel, "title", self.title)
        _text(channel, "author", self.author)
        if self.owner:
            owner = xml_elem(f"{{{NS}}}owner", channel)
            _text(owner, "name", self.owner[0])
            _text(owner, "email", self.owner[1])
        if self.image:
            xml_elem(f"{{{NS}}}image", channel).attrib["href"] = self.image
        for category, sub in self.categories:
            cat = xml_elem(f"{{{NS}}}category", channel)
            cat.attrib["text"] = category
            if sub:
                xml_elem(f"{{{NS}}}category", cat).attrib["text"] = sub
        _text(channel, "explicit", _bool(self.explicit))
        _text(channel, "type", self.type)
        if self.block:
            _text(channel, "block", "Yes")
        if self.complete:
            _text(channel, "complete", "Yes")
        _text(channel, "new-feed-url", self.new_feed_url)
        _text(channel, "summary", self.summary)
        return rss_feed


class ItunesEntryExtension(BaseEntryExtension):
    """Item tags: title, duration, image, explicit, episode, season, episodeType, summary."""

    def __init__(self) -> None:
        self.summary: str | None = None
        self.title: str | None = None
        self.duration: int | None = None
        self.image: str | None = None
        self.explicit: bool | None = None
        self.episode: int | None = None
        self.season: int | None = None
        self.episode_type: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": NS}

    def extend_rss(self, item):  # noqa: ANN001, ANN201
        _text(item, "title", self.title)
        _text(item, "duration", self.duration)
        if self.image:
            xml_elem(f"{{{NS}}}image", item).attrib["href"] = self.image
        _text(item, "explicit", _bool(self.explicit))
        _text(item, "episode", self.episode)
        _text(item, "season", self.season)
        _text(item, "episodeType", self.episode_type)
        _text(item, "summary", self.summary)
        return item
