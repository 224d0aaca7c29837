"""Text from other hosts' feeds: HTML made readable text or Markdown, and long text cut where it may be.

Show descriptions and episode summaries are plain text here (pages print
them as text), while feeds often carry HTML in them: the HTML becomes text
with its paragraphs and line breaks, and links keep their address. Show
notes are Markdown here: a feed's HTML notes are first cleaned with the
sanitiser that cleans rendered Markdown (so nothing it would drop is kept),
then written as Markdown, which renders back to the same sanitised HTML.
"""

from __future__ import annotations

import re

import nh3
from lxml import etree, html
from markdownify import markdownify

from ..core.markup import ALLOWED_TAGS

_BLOCKS = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr"}
_TAG = re.compile(r"<[a-zA-Z][^>]*>|</[a-zA-Z]+>|&[a-zA-Z#0-9]+;")


def text_of(value: str) -> str:
    """`value` as text: unchanged if it holds no markup, else its HTML's text with paragraphs as blank lines,
    <br> as line breaks and each link's address after its text when they differ."""
    if not _TAG.search(value):
        return value.strip()
    try:
        root = html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        return value.strip()
    for node in root.iter("br"):
        node.tail = "\n" + (node.tail or "")
    for node in root.iter("a"):
        href = (node.get("href") or "").strip()
        label = node.text_content().strip()
        if href.startswith(("http://", "https://")) and href != label:
            node.tail = f" ({href})" + (node.tail or "")
    for node in root.iter(*_BLOCKS):
        node.tail = "\n\n" + (node.tail or "")
    text = root.text_content()
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def cut_to_bytes(value: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes of `value`, cut after a sentence if one ends in the last fifth, else at a
    space, else between characters (never inside one); "…" marks the cut."""
    if len(value.encode()) <= limit:
        return value
    room = limit - len("…".encode())
    head = value.encode()[:room].decode(errors="ignore")
    sentence = max(head.rfind(". "), head.rfind("! "), head.rfind("? "), head.rfind("\n"))
    if sentence >= len(head) * 4 // 5:
        return head[: sentence + 1].rstrip() + "…"
    space = head.rfind(" ")
    return (head[:space] if space > 0 else head).rstrip() + "…"


_URL = re.compile(r"(?<![<(\[])\bhttps?://[^\s<>()]+[^\s<>().,;:!?'\"]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]#+!|>])")


def says_more_than_text(value: str) -> bool:
    """Whether a description shown as plain text would lose something: markup, line breaks or links.
    Such a description is also the episode's show notes; a plain sentence is only its summary."""
    return bool(_TAG.search(value) or "\n" in value.strip() or _URL.search(value))


def notes_of(value: str) -> str:
    """Show notes from a feed, as Markdown: its HTML cleaned and converted; plain text with its line breaks
    kept (Markdown would join lines) and its addresses made links."""
    if not value.strip():
        return ""
    if _TAG.search(value):
        # <b> and <i> are kept for the conversion, which writes them as Markdown's strong and emphasis.
        cleaned = nh3.clean(
            value,
            tags=ALLOWED_TAGS | {"b", "i"},
            attributes={"a": {"href", "title"}},
            url_schemes={"http", "https", "mailto"},
        )
        return markdownify(cleaned, heading_style="ATX", bullets="-", escape_underscores=False).strip()
    return "  \n".join(_plain_line(line) for line in value.strip().splitlines()).replace("  \n  \n", "\n\n")


def _plain_line(line: str) -> str:
    """A line of plain text as Markdown that renders it as it is: specials escaped, addresses made links."""
    parts = _URL.split(line.rstrip())
    urls = _URL.findall(line.rstrip())
    out = [_MARKDOWN_SPECIAL.sub(r"\\\1", parts[0])]
    for url, rest in zip(urls, parts[1:]):
        out += [f"<{url}>", _MARKDOWN_SPECIAL.sub(r"\\\1", rest)]
    return "".join(out)
