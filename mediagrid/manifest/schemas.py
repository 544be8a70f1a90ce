"""The published JSON Schema of module.yaml, and its errors turned into Problems with a fix."""

from __future__ import annotations

import datetime
import difflib
import json
from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from mediagrid.manifest.durations import DURATION_PATTERN

SCHEMA_FILE = "module.schema.json"

# Errors as (field path parts, message, fix); the loader adds file and line.
Raw = tuple[tuple[str | int, ...], str, str]

YAML_TYPES = {
    "array": "a list", "object": "a mapping (key: value lines)", "string": "text",
    "integer": "a whole number", "number": "a number", "boolean": "true or false",
    "null": "nothing",
}


@cache
def schema_text() -> str:
    """The schema as published (the file shipped in the package)."""
    return resources.files("mediagrid.manifest").joinpath(SCHEMA_FILE).read_text("utf-8")


@cache
def schema() -> dict[str, Any]:
    return json.loads(schema_text())


@cache
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def field_path(parts: Sequence[str | int]) -> str:
    """("entity_types", 0, "kind") -> "entity_types[0].kind"."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def schema_errors(data: Any) -> list[Raw]:
    """Every schema violation in `data`, translated, ordered by field path."""
    return translated_errors(validator(), data)


def translated_errors(checker: jsonschema.protocols.Validator, data: Any) -> list[Raw]:
    """Every violation of `checker`'s schema in `data` as (field path, message, fix), ordered
    by field path. Other YAML documents checked against a JSON Schema (the simulator's
    scenarios) share module.yaml's wording this way."""
    raws: list[Raw] = []
    for error in checker.iter_errors(data):
        raws.extend(_translate(error))
    unique = dict.fromkeys(raws)  # one error can be reached twice through $ref siblings
    return sorted(unique, key=lambda raw: [str(p) for p in raw[0]])


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, datetime.date):
        value = value.isoformat()
    text = json.dumps(value) if isinstance(value, str | int | float | bool) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _yaml_type(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, datetime.date):
        return "a date"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _example(error_schema: dict[str, Any], key: str) -> str:
    sub = error_schema.get("properties", {}).get(key, {})
    examples = sub.get("examples") or ([sub["default"]] if "default" in sub else [])
    return f", for example `{key}: {json.dumps(examples[0])}`" if examples else ""


def _translate(error: jsonschema.ValidationError) -> Iterator[Raw]:
    path = tuple(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        path = (*path, error.instance)  # the error is about a key: point at it
    value, kind, sch = error.instance, error.validator, error.schema
    if kind == "additionalProperties":
        known = sorted(sch.get("properties", {}))
        for key in sorted(set(value) - set(known)):
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            fix = (f'did you mean "{close[0]}"?' if close
                   else "remove it; known keys here: " + ", ".join(known))
            yield (*path, key), f'unknown key "{key}"', fix
    elif kind == "required":
        for key in sch["required"]:
            if key not in value:
                yield ((*path, key), f'"{key}" is missing',
                       f"add `{key}:`{_example(sch, key)}" if _example(sch, key)
                       else f"add `{key}:`")
    elif kind == "type" and path and path[-1] == "command" and len(path) == 1:
        yield (path, f"{_show(value)} is text, but command must be a list of arguments "
               "(it is never run through a shell)",
               'write it as a YAML list, e.g. command: ["{python}", "module.py"]')
    elif kind == "type":
        wanted = error.validator_value
        wanted_list = [wanted] if isinstance(wanted, str) else wanted
        names = " or ".join(YAML_TYPES[t] for t in wanted_list)
        fix = f"write {names}"
        if path and path[-1] == "version":
            fix = 'write a quoted semantic version, like version: "1.2.0"'
        elif wanted == "string" and "enum" in sch:
            fix = "write one of " + ", ".join(map(str, sch["enum"]))
            if isinstance(value, bool):  # `no` is the likeliest: YAML 1.1 reads it as false
                fix = f"YAML reads yes/no/on/off as true/false; {fix}"
        elif wanted == "string" and value is None:
            fix = ("YAML reads null, ~ and an empty value as nothing; to mean the word, "
                   'quote it: "null"' if path and path[-1] == "type" else "write text")
        elif wanted == "string" and isinstance(value, bool):
            fix = 'YAML reads yes/no/on/off as true/false; quote the word, like "yes"'
        elif wanted == "string" and isinstance(value, int | float | datetime.date):
            fix = f'quote it: "{value}"'
        elif wanted == "array" and isinstance(value, str):
            fix = f"write a list: [{value}]"
        yield path, f"expected {names}, got {_yaml_type(value)} ({_show(value)})", fix
    elif kind == "enum":
        if sch.get("type") == "string" and not isinstance(value, str):
            return  # the type error at the same field says it, with the options
        options = [str(o) for o in error.validator_value]
        close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
        fix = f'did you mean "{close[0]}"?' if close else "use one of: " + ", ".join(options)
        if "codecs" in path:  # a long list: name it rather than print it
            fix = (f'did you mean "{close[0]}"?' if close else
                   "use ffmpeg's name of a codec in the table of docs/contract.md §4.5")
            yield path, f"{_show(value)} is not a codec name of the contract", fix
            return
        yield path, f"{_show(value)} is not one of {', '.join(options)}", fix
    elif kind == "pattern":
        yield path, *_pattern(error.validator_value, value, path)
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = "at least" if "inimum" in kind else "at most"
        yield path, f"{_show(value)} is out of range", f"use a value {word} {error.validator_value}"
    elif kind == "minItems":
        yield path, "the list is empty", "give at least one item"
    elif kind == "uniqueItems":
        dupes = sorted({_show(v) for v in value if value.count(v) > 1})
        yield path, f"the list repeats {', '.join(dupes)}", "list each item once"
    elif kind == "minProperties":
        yield path, "the mapping is empty", "give at least one key, or remove it"
    elif kind == "minLength":
        yield path, "the text is empty", "write a value, or remove the entry"
    elif kind == "maxLength":
        yield (path, f"{_show(value)} is longer than {error.validator_value} characters",
               "shorten it")
    else:
        yield path, error.message, "see docs/module-yaml.md"


def _pattern(pattern: str, value: Any, path: tuple[str | int, ...]) -> tuple[str, str]:
    last = path[-1] if path else ""
    if pattern == DURATION_PATTERN:
        return f"{_show(value)} is not a duration", 'write it like "500ms" or "2s"'
    if last == "id":
        return (f"{_show(value)} is not a valid module id",
                "use a lowercase letter, then lowercase letters, digits or '-' "
                "(at most 63 characters), like my-camera")
    if last == "type":
        return (f"{_show(value)} is not a valid entity type name",
                "use a lowercase letter, then lowercase letters, digits, '_' or '-', like rtsp")
    if last == "version":
        return f"{_show(value)} is not a semantic version", 'write it like "1.2.0"'
    if len(path) >= 2 and path[-2] == "env":
        return (f"{_show(value)} is not a valid environment variable name",
                "use letters, digits and '_', not starting with a digit")
    if isinstance(last, int):
        return (f"{_show(value)} is not a valid name",
                "use lowercase letters, digits, '.', '_', '+', '-'")
    return f"{_show(value)} does not match {pattern}", "see docs/module-yaml.md"
