"""Text from other hosts' feeds: HTML descriptions made readable text, and long text cut where it may be.

Show descriptions and episode summaries are plain text here (pages print
them as text), while feeds often carry HTML in them: the HTML becomes text
with its paragraphs and line breaks, and links keep their address.
"""

from __future__ import annotations

import re

from lxml import etree, html

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
        return head[:sentence + 1].rstrip() + "…"
    space = head.rfind(" ")
    return (head[:space] if space > 0 else head).rstrip() + "…"
