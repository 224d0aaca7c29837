"""The OpenAPI 3.1 document of /api/v1/, served at /api/v1/openapi.json.

Written by hand next to the views it describes; tests check that every
route is documented, that nothing documented is missing, and that responses
match these schemas.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Response, jsonify

from ..catalogue.inputs import SUBSCRIBE_APPS
from . import bp


def _nullable(kind: str, **extra: Any) -> dict:
    return {"type": [kind, "null"], **extra}


PERSON = {
    "type": "object",
    "required": ["name", "role", "group"],
    "properties": {
        "name": {"type": "string"},
        "role": {"type": "string", "examples": ["host", "guest"]},
        "group": {"type": "string", "default": "cast"},
        "title": _nullable("string"),
        "href": _nullable("string", format="uri"),
        "img": _nullable("string", format="uri"),
    },
}
LINK = {
    "type": "object",
    "required": ["title", "url"],
    "properties": {
        "title": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "rel": _nullable("string", description='"report" marks the document the episode belongs to'),
    },
}
CHAPTER = {
    "type": "object",
    "required": ["start", "title"],
    "properties": {
        "start": {"type": "number", "minimum": 0, "description": "seconds from the start"},
        "end": _nullable("number"),
        "title": {"type": "string"},
        "url": _nullable("string", format="uri"),
    },
}
STATUS = {"type": "string", "enum": ["draft", "scheduled", "published", "unpublished"]}

SHOW = {
    "type": "object",
    "required": ["slug", "title", "description", "language", "categories", "explicit", "page_url", "feed_url"],
    "properties": {
        "slug": {"type": "string"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "language": {"type": "string"},
        "author": {"type": "string"},
        "owner_name": {"type": "string"},
        "owner_email": {"type": "string"},
        "copyright": _nullable("string"),
        "website_url": _nullable("string", format="uri"),
        "categories": {"type": "array", "items": {"type": "string"}, "examples": [["Technology", "News > Tech News"]]},
        "explicit": {"type": "boolean"},
        "show_type": {"type": "string", "enum": ["episodic", "serial"]},
        "people": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}},
        "block": {"type": "boolean", "description": "itunes:block: keep the show out of Apple's directory"},
        "complete": {"type": "boolean", "description": "itunes:complete: no more episodes will come"},
        "private": {"type": "boolean", "description": "served only through subscribers' personal feed URLs"},
        "new_feed_url": _nullable(
            "string", format="uri", description="the show moved: the feed says so and answers 301 there"
        ),
        "locked": {"type": "boolean", "description": "podcast:locked, with owner_email as its owner"},
        "medium": {"type": "string", "enum": ["podcast", "music", "audiobook", "newsletter", "blog"]},
        "funding": {
            "type": "array",
            "description": "podcast:funding: [url, text] pairs",
            "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
        },
        "location_name": _nullable("string"),
        "location_geo": _nullable("string", examples=["geo:50.8466,4.3528"]),
        "location_osm": _nullable("string", examples=["R54094"]),
        "license": _nullable("string", description="an SPDX identifier or a licence's name"),
        "license_url": _nullable("string", format="uri"),
        "update_frequency": _nullable("string", description="an RFC 5545 RRULE", examples=["FREQ=MONTHLY"]),
        "update_frequency_text": _nullable("string"),
        "txt": {
            "type": "array",
            "description": "podcast:txt: [text, purpose or null] pairs",
            "items": {"type": "array", "items": {"type": ["string", "null"]}, "minItems": 1, "maxItems": 2},
        },
        "podroll": {
            "type": "array",
            "description": "podcast:podroll: [feed guid, feed URL or null] pairs",
            "items": {"type": "array", "items": {"type": ["string", "null"]}, "minItems": 1, "maxItems": 2},
        },
        "season_names": {"type": "object", "additionalProperties": {"type": "string"}, "examples": [{"1": "2021"}]},
        "podcast_guid": _nullable("string", format="uuid"),
        "measurement_prefix": {
            "type": "string",
            "description": "an https URL ending in '/' put before the public "
            "feed's enclosure URLs for an external measurement "
            "service, e.g. https://op3.dev/e/; empty: none",
            "maxLength": 200,
        },
        "subscribe_links": {
            "type": "object",
            "description": "the show's page in podcast apps, for the show page's subscribe buttons",
            "propertyNames": {"enum": list(SUBSCRIBE_APPS)},
            "additionalProperties": {"type": "string", "format": "uri"},
            "examples": [{"apple": "https://podcasts.apple.com/be/podcast/id1234567890"}],
        },
        "audio_bitrate": {
            "type": "integer",
            "enum": [32, 48, 64, 96, 128, 160, 192],
            "default": 64,
            "description": "kb/s of the MP3 made from a master (WAV, FLAC...); the Opus rendition gets half",
        },
        "audio_channels": {
            "type": "integer",
            "enum": [1, 2],
            "default": 1,
            "description": "renditions in mono or stereo",
        },
        "normalize_masters": {
            "type": "boolean",
            "default": True,
            "description": "bring renditions made from masters to -16 LUFS stereo / -19 LUFS mono, "
            "true peak at most -1 dBTP",
        },
        "normalize_compressed": {
            "type": "boolean",
            "default": False,
            "description": "encode MP3 and AAC uploads again to reach the same target",
        },
        "image_url": _nullable("string", format="uri"),
        "page_url": {"type": "string", "format": "uri"},
        "feed_url": {"type": "string", "format": "uri"},
        "warnings": {
            "type": "array",
            "items": {"type": "string"},
            "description": "what keeps Apple Podcasts from listing an episode",
        },
    },
}
SHOW_FIELDS = {
    "type": "object",
    "description": "Fields to set; on creation title, description, author, owner_name, owner_email and "
    "categories (from Apple's list) are required.",
    "properties": {
        k: v
        for k, v in cast(dict[str, Any], SHOW["properties"]).items()
        if k not in ("image_url", "page_url", "feed_url", "warnings", "podcast_guid")
    },
}
SUBSCRIBER = {
    "type": "object",
    "required": ["id", "name", "prefix", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "prefix": {"type": "string", "description": "the token's first characters, to tell subscribers apart"},
        "created_at": {"type": "string", "format": "date-time"},
        "last_used_at": _nullable("string", format="date-time"),
        "revoked_at": _nullable("string", format="date-time"),
        "feed_url": {"type": "string", "format": "uri", "description": "only in the response that creates it"},
    },
}
_COUNT = {"type": "integer", "minimum": 0}
ANALYTICS = {
    "type": "object",
    "description": "Downloads by the IAB Tech Lab Podcast Measurement Guidelines v2.2: GET requests whose ranges "
    "cover the first minute, once per listener, episode and UTC calendar day, bots filtered. Days "
    "before today are counted by the rollup; today's figures are counted as asked.",
    "required": ["start", "end", "total", "window", "per_day", "apps", "sources", "countries", "episodes"],
    "properties": {
        "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date"},
        "total": _COUNT,
        "window": {"type": "string", "enum": ["UTC calendar day"]},
        "per_day": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["date", "downloads"],
                "properties": {"date": {"type": "string", "format": "date"}, "downloads": _COUNT},
            },
        },
        "apps": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["app", "downloads"],
                "properties": {"app": {"type": "string"}, "downloads": _COUNT},
            },
        },
        "sources": {
            "type": "object",
            "description": "feed (apps), web (the episode page and other pages), embed, private (subscribers' feeds)",
            "additionalProperties": _COUNT,
        },
        "countries": {
            "type": "array",
            "description": "only where a GeoIP database is configured; null: unknown",
            "items": {
                "type": "object",
                "required": ["country", "downloads"],
                "properties": {"country": _nullable("string", minLength=2, maxLength=2), "downloads": _COUNT},
            },
        },
        "episodes": {
            "type": "array",
            "description": "the newest 50 published episodes",
            "items": {
                "type": "object",
                "required": ["id", "slug", "title", "published", "downloads", "first_days"],
                "properties": {
                    "id": {"type": "integer"},
                    "slug": {"type": "string"},
                    "title": {"type": "string"},
                    "published": _nullable("string", format="date"),
                    "downloads": _COUNT,
                    "first_days": {
                        "type": "object",
                        "description": "downloads in the episode's first 7, 30 and 90 days",
                        "properties": {"7": _COUNT, "30": _COUNT, "90": _COUNT},
                    },
                },
            },
        },
    },
}
SOUNDBITE = {
    "type": "object",
    "required": ["start", "duration"],
    "properties": {
        "start": {"type": "number", "minimum": 0},
        "duration": {"type": "number", "maximum": 300},
        "title": _nullable("string"),
    },
}

AUDIO = {
    "type": "object",
    "required": ["state", "job"],
    "description": "the audio job: an upload is measured, and a master (WAV, FLAC, AIFF, Opus, Ogg) becomes an MP3 "
    "enclosure and an Opus alternate; listeners see the episode once its state is ready",
    "properties": {
        "state": {"type": "string", "enum": ["processing", "ready", "failed"]},
        "job": {
            "type": ["object", "null"],
            "properties": {
                "state": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
                "progress": {"type": "integer", "minimum": 0, "maximum": 100, "description": "percent"},
                "attempts": {"type": "integer"},
                "error": _nullable("string"),
                "encode": {"type": "boolean"},
            },
        },
        "loudness_lufs": _nullable("number", description="integrated loudness of the upload (EBU R128)"),
        "true_peak_dbtp": _nullable("number"),
        "gain_db": _nullable("number", description="gain applied to reach the show's loudness target"),
        "master": {
            "type": ["object", "null"],
            "description": "the upload the renditions were made from; never served",
            "properties": {
                "mime_type": {"type": "string"},
                "size": {"type": "integer"},
                "duration": _nullable("number"),
                "filename": _nullable("string"),
            },
        },
        "waveform_url": _nullable("string", format="uri", description="peaks in audiowaveform's JSON layout"),
    },
}

EPISODE = {
    "type": "object",
    "required": [
        "id",
        "slug",
        "guid",
        "title",
        "status",
        "duration",
        "mime_type",
        "size",
        "audio_url",
        "page_url",
        "chapters",
    ],
    "properties": {
        "id": {"type": "integer"},
        "slug": {"type": "string"},
        "guid": {"type": "string", "description": "the RSS guid; never changes, even when the audio is replaced"},
        "title": {"type": "string"},
        "summary": {"type": "string"},
        "notes": {"type": "string", "description": "show notes in Markdown"},
        "status": STATUS,
        "published_at": _nullable("string", format="date-time"),
        "season": _nullable("integer"),
        "number": _nullable("integer"),
        "episode_type": {"type": "string", "enum": ["full", "trailer", "bonus"]},
        "explicit": {"type": "boolean"},
        "duration": {"type": "number", "description": "seconds"},
        "mime_type": {"type": "string"},
        "size": {"type": "integer", "description": "bytes"},
        "audio_url": {"type": "string", "format": "uri"},
        "image_url": _nullable("string", format="uri"),
        "page_url": {"type": "string", "format": "uri"},
        "preview_url": {
            "type": "string",
            "format": "uri",
            "description": "private link to the page, whatever the status",
        },
        "chapters": {"type": "array", "items": {"$ref": "#/components/schemas/Chapter"}},
        "transcript_url": _nullable("string", format="uri"),
        "people": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
        "soundbites": {"type": "array", "items": {"$ref": "#/components/schemas/Soundbite"}},
        "alternates": {
            "type": "array",
            "description": "other renditions (podcast:alternateEnclosure)",
            "items": {
                "type": "object",
                "required": ["id", "url", "mime_type", "size"],
                "properties": {
                    "id": {"type": "integer"},
                    "url": {"type": "string", "format": "uri"},
                    "mime_type": {"type": "string"},
                    "size": {"type": "integer"},
                    "bitrate": _nullable("integer"),
                    "duration": _nullable("number"),
                },
            },
        },
        "audio": AUDIO,
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
}
_LIST_TEXT = "a JSON array, as text in multipart forms"
EPISODE_FIELDS = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "description": "default: the file's title tag, else its name"},
        "slug": {"type": "string", "description": "default: made from the title"},
        "description": {"type": "string", "description": "the summary; default: the file's comment tag"},
        "notes": {"type": "string", "description": "show notes in Markdown"},
        "status": {**STATUS, "default": "draft"},
        "publish_at": {
            "type": "string",
            "format": "date-time",
            "description": "required for scheduled; a past date for published",
        },
        "season": {"type": "integer", "minimum": 1},
        "number": {"type": "integer", "minimum": 1},
        "type": {"type": "string", "enum": ["full", "trailer", "bonus"]},
        "explicit": {"type": "boolean"},
        "guid": {"type": "string", "description": "only on creation, to keep a guid from another host"},
        "people": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}, "description": _LIST_TEXT},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}, "description": _LIST_TEXT},
        "chapters": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Chapter"},
            "description": f"default: the file's ID3 chapters; {_LIST_TEXT}",
        },
        "soundbites": {"type": "array", "items": {"$ref": "#/components/schemas/Soundbite"}, "description": _LIST_TEXT},
    },
}
_FILE = {"type": "string", "format": "binary"}
EPISODE_UPLOAD = {
    "allOf": [
        {"$ref": "#/components/schemas/EpisodeFields"},
        {
            "type": "object",
            "properties": {
                "audio": {**_FILE, "description": "MP3, M4A, Ogg Vorbis, Opus, FLAC or WAV"},
                "image": {**_FILE, "description": "square JPEG or PNG, 1400 to 3000 pixels a side"},
                "transcript": {**_FILE, "description": "WebVTT or SRT"},
            },
        },
    ],
}
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "message"],
            "properties": {"status": {"type": "integer"}, "title": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR_RESPONSES = {
    400: "Bad request",
    401: "No valid token",
    403: "Token lacks the scope, or an editor asks what only an owner may do",
    404: "Not found, or a show the token's user has no role on",
    409: "Already exists",
    413: "Body larger than its limit: 1 MB, or the upload limit for files",
    422: "Invalid field or file",
    503: "Media store unavailable",
}


def _errors(*codes: int) -> dict:
    return {str(c): {"$ref": f"#/components/responses/{c}"} for c in codes}


READ = _errors(401, 403, 404)
WRITE = _errors(400, 401, 403, 404, 409, 413, 422, 503)
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
ALTERNATE_ID = {"name": "alternate_id", "in": "path", "required": True, "schema": {"type": "integer"}}
SUBSCRIBER_ID = {"name": "subscriber_id", "in": "path", "required": True, "schema": {"type": "integer"}}
EPISODE_ID = {"name": "episode_id", "in": "path", "required": True, "schema": {"type": "integer"}}
MULTIPART = {"multipart/form-data": {"schema": _ref("EpisodeUpload")}}
PAGE = {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "default": 1}}
PER_PAGE = {
    "name": "per_page",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
}


def _page_of(schema: str, description: str) -> dict:
    """A page of a list, with the headers that lead to the others."""
    return {
        "200": {
            **_json({"type": "array", "items": _ref(schema)}, description),
            "headers": {
                "Link": {
                    "description": 'RFC 8288 links to the next and previous pages (rel="next", rel="prev")',
                    "schema": {"type": "string"},
                }
            },
        }
    }


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 64},
    "description": "A key of the client's choosing (a UUID): a retry with the same key gets the "
    "episode the first request created, marked Idempotent-Replayed: true",
}


def _op(summary: str, ok: dict, errors: dict, *, scope: str, body: dict | None = None, params: tuple = ()) -> dict:
    op = {"summary": summary, "security": [{"token": [scope]}], "responses": ok | errors}
    if params:
        op["parameters"] = list(params)
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    return op


def _names(key: str, what: str) -> dict:
    return {
        "type": "object",
        "required": [key],
        "properties": {key: {"type": "array", "items": {"type": "string"}, "description": what}},
    }


def _versions(key: str, fields: dict, description: str) -> dict:
    item = {"type": "object", "required": list(fields), "properties": fields}
    return {
        "200": _json(
            {"type": "object", "required": [key], "properties": {key: {"type": "array", "items": item}}}, description
        )
    }


def document() -> dict:
    episode_ok = {"200": _json(_ref("Episode"), "The episode")}
    show_ok = {"200": _json(_ref("Show"), "The show")}
    text = {"type": "string"}
    show_versions_ok = _versions(
        "shows",
        {"slug": text, "title": text, "language": text, "page_url": text},
        "The other shows of the programme, private ones included",
    )
    episode_versions_ok = _versions(
        "episodes",
        {"id": {"type": "integer"}, "name": text, "title": text, "language": text, "status": text},
        "The same episode in the other shows, whatever its status",
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Podcast publishing API",
            "version": "1",
            "description": "Shows and episodes for producers' scripts. Send `Authorization: Bearer <token>`; "
            "tokens come from `flask create-token` or the admin's Tokens page. Reading needs "
            "the `read` scope, anything else `write`.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Show": SHOW,
                "ShowFields": SHOW_FIELDS,
                "Episode": EPISODE,
                "EpisodeFields": EPISODE_FIELDS,
                "EpisodeUpload": EPISODE_UPLOAD,
                "Chapter": CHAPTER,
                "Person": PERSON,
                "Link": LINK,
                "Soundbite": SOUNDBITE,
                "Subscriber": SUBSCRIBER,
                "Analytics": ANALYTICS,
                "Error": ERROR,
            },
            "responses": {str(code): _json(_ref("Error"), text) for code, text in ERROR_RESPONSES.items()},
        },
        "paths": {
            "/shows": {
                "get": _op(
                    "Shows the token's user may edit, a page at a time",
                    _page_of("Show", "A page of shows"),
                    _errors(401, 403, 404, 422),
                    scope="read",
                    params=(PAGE, PER_PAGE),
                ),
                "post": _op(
                    "Create a show; its creator becomes an owner",
                    {"201": _json(_ref("Show"), "The new show")},
                    WRITE,
                    scope="write",
                    body={"application/json": {"schema": _ref("ShowFields")}},
                ),
            },
            "/shows/{slug}": {
                "get": _op("One show", show_ok, READ, scope="read", params=(SLUG,)),
                "patch": _op(
                    "Change a show's fields (owners)",
                    show_ok,
                    WRITE,
                    scope="write",
                    params=(SLUG,),
                    body={"application/json": {"schema": _ref("ShowFields")}},
                ),
            },
            "/shows/{slug}/image": {
                "put": _op(
                    "Replace the show's cover art (owners)",
                    show_ok,
                    WRITE,
                    scope="write",
                    params=(SLUG,),
                    body={
                        "multipart/form-data": {
                            "schema": {"type": "object", "required": ["image"], "properties": {"image": _FILE}}
                        }
                    },
                ),
            },
            "/shows/{slug}/episodes": {
                "get": _op(
                    "The show's episodes whatever their status, newest first, a page at a time",
                    _page_of("Episode", "A page of episodes"),
                    READ,
                    scope="read",
                    params=(SLUG, PAGE, PER_PAGE),
                ),
                "post": _op(
                    "Upload an episode; fields left out come from the file's tags",
                    {"201": _json(_ref("Episode"), "The new episode")},
                    WRITE,
                    scope="write",
                    params=(SLUG, IDEMPOTENCY_KEY),
                    body={
                        "multipart/form-data": {"schema": {"allOf": [_ref("EpisodeUpload"), {"required": ["audio"]}]}}
                    },
                ),
            },
            "/shows/{slug}/episodes/{episode_id}": {
                "get": _op("One episode", episode_ok, READ, scope="read", params=(SLUG, EPISODE_ID)),
                "patch": _op(
                    "Change fields; multipart may replace the audio (the guid stays)",
                    episode_ok,
                    WRITE,
                    scope="write",
                    params=(SLUG, EPISODE_ID),
                    body={"application/json": {"schema": _ref("EpisodeFields")}} | MULTIPART,
                ),
                "delete": _op(
                    "Delete the episode and its files",
                    {"204": {"description": "Deleted"}},
                    WRITE,
                    scope="write",
                    params=(SLUG, EPISODE_ID),
                ),
            },
            "/shows/{slug}/episodes/{episode_id}/transcript": {
                "put": _op(
                    "Upload a WebVTT or SRT transcript",
                    episode_ok,
                    WRITE,
                    scope="write",
                    params=(SLUG, EPISODE_ID),
                    body={
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["transcript"],
                                "properties": {"transcript": _FILE},
                            }
                        }
                    },
                ),
                "delete": _op("Remove the transcript", episode_ok, WRITE, scope="write", params=(SLUG, EPISODE_ID)),
            },
            "/shows/{slug}/episodes/{episode_id}/preview-link": {
                "post": _op(
                    "Replace the private preview link (preview_url); the old one stops working",
                    episode_ok,
                    WRITE,
                    scope="write",
                    params=(SLUG, EPISODE_ID),
                ),
            },
            "/shows/{slug}/episodes/{episode_id}/chapters": {
                "put": _op(
                    "Replace the chapters",
                    episode_ok,
                    WRITE,
                    scope="write",
                    params=(SLUG, EPISODE_ID),
                    body={
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {"type": "array", "items": _ref("Chapter")},
                                    {
                                        "type": "object",
                                        "description": "Podcast Index JSON chapters",
                                        "required": ["chapters"],
                                    },
                                ]
                            }
                        }
                    },
                ),
            },
            "/shows/{slug}/episodes/{episode_id}/alternates": {
                "post": _op(
                    "Add another rendition of the audio (podcast:alternateEnclosure)",
                    {"201": _json(_ref("Episode"), "The episode")},
                    WRITE,
                    scope="write",
                    params=(SLUG, EPISODE_ID),
                    body={
                        "multipart/form-data": {
                            "schema": {"type": "object", "required": ["audio"], "properties": {"audio": _FILE}}
                        }
                    },
                ),
            },
            "/shows/{slug}/episodes/{episode_id}/audio/process": {
                "post": _op(
                    "Run the audio job again (after a failure, or for renditions with the show's current "
                    "settings); follow `audio.state`",
                    {"202": _json(_ref("Episode"), "The episode, its audio queued (409: already being processed)")},
                    WRITE,
                    scope="write",
                    params=(SLUG, EPISODE_ID),
                ),
            },
            "/shows/{slug}/episodes/{episode_id}/alternates/{alternate_id}": {
                "delete": _op(
                    "Remove an alternate rendition",
                    episode_ok,
                    WRITE,
                    scope="write",
                    params=(SLUG, EPISODE_ID, ALTERNATE_ID),
                ),
            },
            "/shows/{slug}/analytics": {
                "get": _op(
                    "Downloads of the show: per day, by app and source, and each recent episode's first "
                    "7, 30 and 90 days",
                    {"200": _json(_ref("Analytics"), "The figures")},
                    _errors(401, 403, 404, 422),
                    scope="read",
                    params=(
                        SLUG,
                        {
                            "name": "days",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 366, "default": 30},
                        },
                    ),
                ),
            },
            "/shows/{slug}/versions": {
                "get": _op(
                    "The shows that are this one in other languages",
                    show_versions_ok,
                    READ,
                    scope="read",
                    params=(SLUG,),
                ),
                "put": _op(
                    "Name the show's versions in other languages by slug (owners); replaces the pairing, "
                    "an empty list removes it",
                    show_versions_ok,
                    WRITE,
                    scope="write",
                    params=(SLUG,),
                    body={"application/json": {"schema": _names("shows", "show slugs")}},
                ),
            },
            "/shows/{slug}/episodes/{episode_id}/versions": {
                "get": _op(
                    "The same episode in the show's versions",
                    episode_versions_ok,
                    READ,
                    scope="read",
                    params=(SLUG, EPISODE_ID),
                ),
                "put": _op(
                    "Pair the episode with its counterparts in the show's versions; replaces the pairing",
                    episode_versions_ok,
                    WRITE,
                    scope="write",
                    params=(SLUG, EPISODE_ID),
                    body={"application/json": {"schema": _names("episodes", "show-slug/episode-slug")}},
                ),
            },
            "/shows/{slug}/subscribers": {
                "get": _op(
                    "A private show's subscribers (owners)",
                    {"200": _json({"type": "array", "items": _ref("Subscriber")}, "The subscribers")},
                    READ,
                    scope="read",
                    params=(SLUG,),
                ),
                "post": _op(
                    "Give a listener a personal feed URL (owners); shown in this response only",
                    {"201": _json(_ref("Subscriber"), "The subscriber, with feed_url")},
                    WRITE,
                    scope="write",
                    params=(SLUG,),
                    body={
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"type": "string"}},
                            }
                        }
                    },
                ),
            },
            "/shows/{slug}/subscribers/{subscriber_id}": {
                "delete": _op(
                    "Revoke a subscriber's feed URL (owners): their feed and files answer 403",
                    {"200": _json(_ref("Subscriber"), "The revoked subscriber")},
                    WRITE,
                    scope="write",
                    params=(SLUG, SUBSCRIBER_ID),
                ),
            },
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())
