"""The Podcasting 2.0 namespace (and what feedparser drops) read from an imported feed's XML.

feedparser keeps none of the `podcast:` tags, so they are read here with
lxml, from the channel's and each item's own children, into the fields the
service models: people, funding, location, licence, txt, podroll, medium and
update frequency for the show; people, season and episode numbers,
soundbites, episode art, and the addresses of chapters, transcripts and
alternate enclosures for each episode (fetched by feed.py through the guarded
fetcher).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..catalogue.inputs import PersonInput
from ..core.errors import ValidationError

PODCAST_NAMESPACES = (
    "https://podcastindex.org/namespace/1.0",
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
)
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
# Transcript formats the service reads, best first (podcast:transcript's type attribute).
TRANSCRIPT_TYPES = {"text/vtt": ".vtt", "application/x-subrip": ".srt", "application/srt": ".srt"}


def _all(node: Any, name: str) -> list[Any]:
    return [child for ns in PODCAST_NAMESPACES for child in node.findall(f"{{{ns}}}{name}")]


def _first(node: Any, name: str) -> Any:
    found = _all(node, name)
    return found[0] if found else None


def _text(node: Any) -> str:
    return (node.text or "").strip() if node is not None else ""


def _people(node: Any) -> list[PersonInput]:
    people = []
    for person in _all(node, "person"):
        try:
            people.append(
                PersonInput(
                    name=_text(person),
                    role=person.get("role") or "host",
                    group=person.get("group") or "cast",
                    href=person.get("href") or None,
                    img=person.get("img") or None,
                )
            )
        except ValidationError:
            continue  # a person without a name, or with a broken link: left out, not the whole show
    return people


def _number(value: str) -> int | None:
    text = value.strip().split(".")[0]
    return int(text) if text.isdigit() and int(text) > 0 else None


def season_name(item: Any) -> tuple[str, str] | None:
    """(season number, its name) from an item's podcast:season, if it names its season."""
    season = _first(item, "season")
    number = _number(_text(season))
    name = (season.get("name") or "").strip()[:128] if season is not None else ""
    return (str(number), name) if number and name else None


def _yes(node: Any) -> bool:
    return _text(node).lower() == "yes"


def show_fields(channel: Any) -> dict[str, Any]:
    """ShowInput fields the channel's itunes: and podcast: tags give (only those it has)."""
    fields: dict[str, Any] = {}
    # Kept out of Apple's directory (itunes:block) or every directory (podcast:block without an id) at the
    # old host: kept out here too. A finished show stays finished.
    if _yes(channel.find(f"{{{ITUNES}}}block")) or any(_yes(b) for b in _all(channel, "block") if not b.get("id")):
        fields["block"] = True
    if _yes(channel.find(f"{{{ITUNES}}}complete")):
        fields["complete"] = True
    people = _people(channel)
    if people:
        fields["people"] = people
    funding = [[f.get("url"), _text(f) or None] for f in _all(channel, "funding") if f.get("url")]
    if funding:
        fields["funding"] = funding
    location = _first(channel, "location")
    if location is not None and _text(location):
        fields.update(
            location_name=_text(location)[:128],
            location_geo=location.get("geo") or None,
            location_osm=location.get("osm") or None,
        )
    licence = _first(channel, "license")
    if licence is not None and _text(licence):
        fields.update(license=_text(licence)[:128], license_url=licence.get("url") or None)
    txt = [[_text(t), t.get("purpose") or None] for t in _all(channel, "txt") if _text(t)]
    if txt:
        fields["txt"] = txt
    podroll = _first(channel, "podroll")
    if podroll is not None:
        items = [
            [r.get("feedGuid"), r.get("feedUrl") or None] for r in _all(podroll, "remoteItem") if r.get("feedGuid")
        ]
        if items:
            fields["podroll"] = items
    medium = _text(_first(channel, "medium"))
    if medium:
        fields["medium"] = medium
    frequency = _first(channel, "updateFrequency")
    if frequency is not None and _text(frequency):
        fields.update(
            update_frequency=frequency.get("rrule") or None,
            update_frequency_text=_text(frequency)[:128],
            complete=frequency.get("complete") == "true",
        )
    return fields


@dataclass(frozen=True)
class ItemExtras:
    """An item's podcast: tags and art, by the fields they become (files as URLs still to fetch)."""

    people: list[PersonInput] = field(default_factory=list)
    season: int | None = None
    number: int | None = None
    soundbites: list[list] = field(default_factory=list)
    image_url: str | None = None
    chapters_url: str | None = None
    transcript: tuple[str, str] | None = None  # (URL, file extension)
    alternates: list[str] = field(default_factory=list)  # each alternateEnclosure's first http(s) source


def item_extras(item: Any) -> ItemExtras:
    soundbites = []
    for bite in _all(item, "soundbite"):
        try:
            soundbites.append([float(bite.get("startTime")), float(bite.get("duration")), _text(bite) or None])
        except (TypeError, ValueError):
            continue
    transcripts = sorted(
        (
            (t.get("url"), TRANSCRIPT_TYPES[t.get("type")])
            for t in _all(item, "transcript")
            if t.get("url") and t.get("type") in TRANSCRIPT_TYPES
        ),
        key=lambda pair: list(TRANSCRIPT_TYPES.values()).index(pair[1]),
    )
    alternates = []
    for alternate in _all(item, "alternateEnclosure"):
        uri = next(
            (
                s.get("uri")
                for s in _all(alternate, "source")
                if (s.get("uri") or "").startswith(("http://", "https://"))
            ),
            None,
        )
        if uri:
            alternates.append(uri)
    chapters = _first(item, "chapters")
    image = item.find(f"{{{ITUNES}}}image")
    return ItemExtras(
        people=_people(item),
        season=_number(_text(_first(item, "season"))),
        number=_number(_text(_first(item, "episode"))),
        soundbites=soundbites,
        image_url=(image.get("href") or "").strip() or None if image is not None else None,
        chapters_url=chapters.get("url") if chapters is not None and chapters.get("url") else None,
        transcript=transcripts[0] if transcripts else None,
        alternates=alternates,
    )
