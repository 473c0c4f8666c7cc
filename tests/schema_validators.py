"""Validate what the bot sends to Teams against the published JSON Schemas (offline copies).

    assert card_errors(card) == []
    assert activity_errors(activity.serialize()) == []
    assert teams_manifest_errors(manifest) == []

Each function returns a sorted list of ``"path: message"`` strings, where ``path`` is the
``/``-joined location in the instance (``<root>`` for the instance itself); an empty list means
valid. Schemas are loaded and compiled once per process.

How the schemas behave (see also ``shared/schemas/README.md``):

* The Adaptive Card schema wraps every element and action in an ``anyOf`` over all known types,
  so a bad property on one ``TextBlock`` surfaces from ``jsonschema`` as the useless "… is not
  valid under any of the given schemas". :func:`_flatten` descends into the one branch whose
  ``type`` matches the instance and reports that branch's errors instead.
* The Teams manifest schema declares draft-04 but uses ``const`` (draft-06, on
  ``manifestVersion``) and ``if``/``then`` (draft-07); a plain ``Draft4Validator`` silently
  ignores both, so ``manifestVersion: "1.29"`` would pass. The validator here is draft-04 plus
  those two keywords. ``check_schema`` is skipped: one pattern uses ``\\p{L}``, which Python's
  ``re`` cannot compile; only an Office add-in ``extensions`` block with custom ``functions``
  reaches it (then ``re.error`` is raised), never a bot-only manifest.
* ``format`` is not checked (the schemas use ``uri``, ``uri-reference`` and ``date-time``,
  which ``jsonschema`` only checks with optional packages that are not installed).
* The Bot Framework ``ChannelAccount`` requires ``name``; botbuilder happily serialises
  ``ChannelAccount(id=...)`` without one, so a reply built by hand without names fails here
  (replies built by ``TurnContext`` copy the names from the incoming activity and pass).
* The Activity schema is otherwise loose: no ``additionalProperties: false`` anywhere, and
  ``type``, ``textFormat``, ``inputHint`` are free strings (``"mesage"`` passes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from jsonschema import Draft4Validator, Draft6Validator, Draft7Validator
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend

from tests.schema_files import ADAPTIVE_CARD_1_5, BOTFRAMEWORK, TEAMS_MANIFEST, schema_path

ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

# Draft-04 plus the two newer keywords the Teams manifest schema relies on.
_TeamsManifestValidator = extend(
    Draft4Validator,
    validators={
        "const": Draft7Validator.VALIDATORS["const"],
        "if": Draft7Validator.VALIDATORS["if"],
    },
)


def card_errors(card: dict[str, Any]) -> list[str]:
    """Errors of ``card`` against the Adaptive Card 1.5 schema."""
    return _report(_card_validator().iter_errors(card))


def activity_errors(activity: dict[str, Any]) -> list[str]:
    """Errors of a serialised Bot Framework Activity, and of every Adaptive Card it carries.

    Card errors are reported under ``attachments/<i>/content/...``.
    """
    errors = _report(_activity_validator().iter_errors(activity))
    attachments = activity.get("attachments")
    if isinstance(attachments, list):
        for index, attachment in enumerate(attachments):
            if not isinstance(attachment, dict):
                continue
            if attachment.get("contentType") != ADAPTIVE_CARD_CONTENT_TYPE:
                continue
            content = attachment.get("content")
            if not isinstance(content, dict):  # already reported: content must be an object
                continue
            prefix = f"attachments/{index}/content"
            for error in card_errors(content):
                path, _, message = error.partition(": ")
                where = prefix if path == "<root>" else f"{prefix}/{path}"
                errors.append(f"{where}: {message}")
    return errors


def teams_manifest_errors(manifest: dict[str, Any]) -> list[str]:
    """Errors of ``manifest`` against the Teams app manifest v1.30 schema."""
    return _report(_teams_manifest_validator().iter_errors(manifest))


# -- schemas, loaded once ------------------------------------------------------------------------


def _load(relative: str) -> dict[str, Any]:
    with schema_path(relative).open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@cache
def _card_validator() -> Validator:
    schema = _load(ADAPTIVE_CARD_1_5)
    Draft6Validator.check_schema(schema)
    return Draft6Validator(schema)


@cache
def _activity_validator() -> Validator:
    definitions = _load(BOTFRAMEWORK)["definitions"]
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": "#/definitions/Activity",
        "definitions": definitions,
    }
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


@cache
def _teams_manifest_validator() -> Validator:
    validator: Validator = _TeamsManifestValidator(_load(TEAMS_MANIFEST))
    return validator


# -- error reporting -----------------------------------------------------------------------------


def _report(errors: Iterable[ValidationError]) -> list[str]:
    found = {(tuple(map(str, e.absolute_path)), e.message) for e in _flatten(errors)}
    return [f"{'/'.join(path) or '<root>'}: {message}" for path, message in sorted(found)]


def _flatten(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    """Replace an ``anyOf``/``oneOf`` failure by the errors of the branch that was meant.

    A branch is "meant" unless it fails on the instance's own ``type`` property (the way the
    Adaptive Card schema tells elements apart). If exactly one branch is left, its errors are
    reported (recursively); otherwise the combined error is kept, with a shortened message.
    """
    for error in errors:
        if error.validator not in ("anyOf", "oneOf") or not error.context:
            yield error
            continue
        branches: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
        meant = [branch for branch in branches.values() if not any(map(_on_type, branch))]
        if len(branches) == 1:
            meant = list(branches.values())
        if len(meant) == 1:
            yield from _flatten(meant[0])
            continue
        instance = error.instance
        if not meant and isinstance(instance, dict):
            if "type" not in instance:
                error.message = "'type' is a required property"
            else:
                error.message = f"{instance['type']!r} is not one of the types allowed here"
        else:
            error.message = f"{_describe(instance)} is not valid under any of the given schemas"
        yield error


def _on_type(error: ValidationError) -> bool:
    """Whether ``error`` is about the instance's own ``type`` (wrong or missing)."""
    if list(error.relative_path) == ["type"]:
        return True
    return error.validator == "required" and error.message == "'type' is a required property"


def _describe(instance: Any) -> str:
    if isinstance(instance, dict) and isinstance(instance.get("type"), str):
        return f"object of type {instance['type']!r}"
    text = repr(instance)
    return text if len(text) <= 60 else text[:57] + "..."
