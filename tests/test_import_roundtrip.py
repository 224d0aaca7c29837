"""A round trip: a show using every feature, published here, imported by a second instance from its feed,
and the second instance's feed equal to the first item by item, only the host's addresses differing."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager

import pytest
from fixtures.app import cli
from fixtures.services import free_ports
from lxml import etree
from werkzeug.serving import make_server

[PORT] = free_ports(1)
FIRST = f"http://127.0.0.1:{PORT}"
SECOND = "https://second.example.org"
FEED = "/shows/everything/feed.xml"
# Host-specific by nature: where the feed lives, the hub it pings, when it was built, what built it.
HOST_TAGS = {"{http://www.w3.org/2005/Atom}link", "lastBuildDate", "generator", "docs"}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "base_url": FIRST}


@contextmanager
def serving(app):
    """The first instance on its base URL's port, as the old host the second one imports from."""
    server = make_server("127.0.0.1", PORT, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        thread.join()


def normalised(value: str | None) -> str | None:
    """Either host's address, with whatever id or slug follows it, reduced to what kind of file it names."""
    if value is None:
        return None
    return re.sub(
        rf"(?:{re.escape(FIRST)}|{re.escape(SECOND)})/\S*?(\.\w+)?(?=\s|$)",
        lambda m: "{host}" + (m.group(1) or ""),
        value.strip(),
    )


def described(node) -> tuple:
    """A tag as a comparable value: its name, attributes and text (addresses normalised), and its children's."""
    attributes = tuple(sorted((k, normalised(v)) for k, v in node.attrib.items()))
    return (node.tag, attributes, normalised(node.text) or "", tuple(described(c) for c in node))


def channel_and_items(xml: bytes) -> tuple[list[tuple], dict[str, list[tuple]]]:
    channel = etree.fromstring(xml).find("channel")
    tags = [described(c) for c in channel if c.tag != "item" and c.tag not in HOST_TAGS]
    items = {item.findtext("guid"): [described(c) for c in item] for item in channel.iter("item")}
    return tags, items


def test_our_feed_imported_by_a_second_instance_comes_out_the_same(
    app,
    client,
    everything,
    other_instance,
):
    original = client.get(FEED).data
    second = other_instance(base_url=SECOND, import_allow_private_networks=True)
    with serving(app):
        result = cli(second, "import-feed", FIRST + FEED, "--slug", "everything", "--override-lock")
    assert result.exit_code == 0, result.output
    with second.app_context():
        copy = second.test_client().get(FEED).data
    ours, theirs = channel_and_items(original), channel_and_items(copy)
    missing = [t for t in ours[0] if t not in theirs[0]]
    extra = [t for t in theirs[0] if t not in ours[0]]
    assert (missing, extra) == ([], []), "channel tags differ"
    assert list(theirs[1]) == list(ours[1])  # the same guids, in the same order
    for guid, tags in ours[1].items():
        assert sorted(theirs[1][guid]) == sorted(tags), guid
