"""Show notes: Markdown in, sanitised HTML out.

Raw HTML in the Markdown is escaped by the parser, and the output is cleaned
again with an allow-list, so neither a producer's paste nor a hostile ID3 tag
can inject script into a page or a feed.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
ALLOWED_TAGS = {
    "a",
    "p",
    "br",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
}


def render_markdown(text: str) -> Markup:
    html = _md.render(text or "")
    return Markup(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes={"a": {"href", "title"}},
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener nofollow",
        )
    )
