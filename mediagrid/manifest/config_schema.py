"""Config schemas describe maps of strings (rule C-12): what a schema must look like so a
config can ever pass it. Shared by the module.yaml checks and the SDK's EntityType.

A config travels as map<string, string>, so `type: integer` (or an `enum` of numbers, or a
`default: 25` YAML reads as a number) describes values that can never arrive: such a schema
refuses every config, or silently loses its default. Each problem says the fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

# (path below the schema, message, fix)
Raw = tuple[tuple[str | int, ...], str, str]

_TYPE_FIX = {
    "integer": 'write type: string with pattern: "^[0-9]+$"',
    "number": r'write type: string with pattern: "^[0-9]+(\\.[0-9]+)?$"',
    "boolean": 'write type: string with enum: ["true", "false"]',
}


def string_map_problems(schema: Any) -> Iterator[Raw]:
    """Every place `schema` (a config schema) cannot match a map of strings."""
    if not isinstance(schema, Mapping):
        return
    kind = schema.get("type")
    if kind is not None and not _admits(kind, "object"):
        yield (("type",), f"{_show(kind)} can never match: a config is a mapping of keys to text",
               "write type: object, with one property per key")
    for where in ("properties", "patternProperties"):
        block = schema.get(where)
        if isinstance(block, Mapping):
            for key, sub in block.items():
                yield from _value_problems(sub, (where, key))
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        yield from _value_problems(extra, ("additionalProperties",))


def _value_problems(sub: Any, path: tuple[str | int, ...]) -> Iterator[Raw]:
    if not isinstance(sub, Mapping):
        return
    kind = sub.get("type")
    if kind is not None and not _admits(kind, "string"):
        first = kind if isinstance(kind, str) else next(iter(kind), "?")
        why = "config values are always text (map<string, string>)"
        yield ((*path, "type"), f"{_show(kind)} can never match: {why}",
               _TYPE_FIX.get(str(first), "write type: string"))
    for word in ("enum", "const", "default", "examples"):
        if word not in sub:
            continue
        values = sub[word] if word in ("enum", "examples") and isinstance(sub[word], list) \
            else [sub[word]]
        bad = [v for v in values if not isinstance(v, str)]
        if bad:
            quoted = json.dumps([str(v).lower() if isinstance(v, bool) else str(v) for v in bad])
            yield ((*path, word), f"{_show(bad[0])} is not text, and config values always are",
                   f"quote it: {quoted[1:-1]}")


def _admits(kind: Any, wanted: str) -> bool:
    if isinstance(kind, str):
        return kind == wanted
    return isinstance(kind, list) and wanted in kind


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, str | int | float | list) else repr(value)
