"""A feedgen extension for the atom:link elements feedgen leaves out of RSS.

feedgen writes only rel="self" as atom:link in an RSS document; WebSub
subscribers find the hubs through rel="hub" links beside it.
"""

from __future__ import annotations

from feedgen.ext.base import BaseExtension
from feedgen.util import xml_elem

NS = "http://www.w3.org/2005/Atom"


class AtomHubExtension(BaseExtension):
    def __init__(self) -> None:
        self.hubs: list[str] = []

    def extend_ns(self) -> dict[str, str]:
        return {"atom": NS}

    def extend_rss(self, rss_feed):  # noqa: ANN001, ANN201
        channel = rss_feed[0]
        for hub in self.hubs:
            xml_elem(f"{{{NS}}}link", channel, rel="hub", href=hub)
        return rss_feed
