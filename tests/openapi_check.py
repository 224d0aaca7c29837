"""Checking API responses against the OpenAPI document the service serves."""

from __future__ import annotations

import re

from jsonschema import Draft202012Validator

API_PREFIX = "/api/v1"


def openapi_path(rule: str) -> str:
    """A Flask rule (/api/v1/shows/<slug>) as an OpenAPI path (/shows/{slug})."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule[len(API_PREFIX) :])


def check_response(app, document: dict, method: str, path: str, response) -> None:
    """The response's status is documented for this operation and its JSON matches the schema."""
    rule, _args = app.url_map.bind("localhost").match(path, method=method, return_rule=True)
    operation = document["paths"][openapi_path(rule.rule)][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method} {path} answered {response.status_code}, which is not documented"
    if "$ref" in documented:
        documented = document["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    content = documented.get("content")
    if content is None:
        assert not response.data
        return
    schema = {**content["application/json"]["schema"], "components": document["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(response.get_json()), key=str)
    assert not errors, f"{method} {path}: {errors[0].message} at {list(errors[0].absolute_path)}"
