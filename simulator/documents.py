"""YAML documents of the simulator (scenarios) checked against their published JSON Schema,
the way module.yaml is: every problem names the file, the field, the line and the fix.

    data = load_document(path, schema, doc="docs/simulator.md")   # or raises ScenarioError
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import referencing

from mediagrid.manifest import schemas as manifest_schemas
from mediagrid.manifest.model import ManifestError, Problem
from mediagrid.manifest.yamlsource import YamlSyntaxError, parse

# One-of choices whose generic jsonschema message would say nothing useful: the last field
# of the path -> (message, fix).
ONE_OF_HELP: dict[str, tuple[str, str]] = {
    "latency": ("is not a latency",
                'write a duration like "200ms", or {distribution: normal, mean: 100ms,'
                " stddev: 20ms} (fixed, uniform, normal, exponential, lognormal)"),
    "error": ("is not an error", "write a status code name like UNAVAILABLE, or {code:"
              " UNAVAILABLE, message: ...}"),
    "hang": ("is not a hang", "write rpc or process, or {scope: rpc, for: 5s}"),
    "crash": ("is not a crash", "write sigkill, or {exit: 1}"),
    "toxic": ("is not a toxic", "give type: latency, bandwidth, timeout, reset_peer,"
              " slow_close, limit_data or down, with that toxic's attributes"),
}


class ScenarioError(ManifestError):
    """A scenario file is invalid; `problems` lists every error with its field and fix."""


SemanticCheck = Callable[[Any], Iterable[tuple[tuple[str | int, ...], str, str]]]


# Schemas other schemas $ref by their $id: module.yaml's, and the simulated module's scenario
# (which a chaos scenario embeds).
SHARED = (("mediagrid.simulator.module", "scenario.schema.json"),)


@cache
def _registry() -> referencing.Registry:
    """Resolves the $refs between the published schemas, by their $id."""
    schemas = [manifest_schemas.schema(), *(package_schema(p, n) for p, n in SHARED)]
    return referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s)) for s in schemas)


def package_schema(package: str, name: str) -> dict[str, Any]:
    """A schema shipped beside the code (`package` like mediagrid.simulator.module)."""
    return json.loads(resources.files(package).joinpath(name).read_text("utf-8"))


def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema, registry=_registry())


def problems_in(data: Any, schema: dict[str, Any], file: str, *, doc: str,
                semantic: SemanticCheck | None = None,
                line_of: Callable[[tuple[str | int, ...]], int | None] = lambda p: None,
                ) -> list[Problem]:
    """Every problem of `data` against `schema` (and `semantic` once the schema holds)."""
    raws = manifest_schemas.translated_errors(validator(schema), data)
    if not raws and semantic is not None:
        raws = list(semantic(data))
    found = []
    for parts, message, fix in raws:
        if message.endswith("under any of the given schemas") or "valid under each of" in message:
            message, fix = _one_of(parts, data)
        fix = fix.replace("docs/module-yaml.md", doc)
        found.append(Problem(file, manifest_schemas.field_path(parts), message, fix,
                             line=line_of(parts)))
    return found


def _one_of(parts: tuple[str | int, ...], data: Any) -> tuple[str, str]:
    last = next((p for p in reversed(parts) if isinstance(p, str)), "")
    if last in ONE_OF_HELP and not isinstance(parts[-1], int):
        message, fix = ONE_OF_HELP[last]
        return f"{_value_at(data, parts)!r} {message}", fix
    if last == "faults":
        return ("a fault needs exactly one action",
                "give one of latency, error, hang or crash (split two actions into two items)")
    if last == "nemesis":
        return ("this nemesis step does not fit its kind",
                "check the keys its kind takes (docs/chaos.md)")
    return "does not match any of the forms this field takes", "see the schema"


def _value_at(data: Any, parts: tuple[str | int, ...]) -> Any:
    for part in parts:
        data = data[part]
    return data


def load_document(path: str | Path, schema: dict[str, Any], *, doc: str,
                  semantic: SemanticCheck | None = None) -> Any:
    """The YAML at `path`, checked; ScenarioError naming every problem otherwise."""
    file = Path(path)
    shown = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(shown, "", "no such file", "check the path")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(shown, "", f"cannot read it: {exc}",
                                     "check the path and that it is UTF-8 text")]) from None
    try:
        source = parse(text)
    except YamlSyntaxError as exc:
        raise ScenarioError([Problem(shown, "", exc.message, exc.fix, line=exc.line)]) from None
    found = problems_in(source.data, schema, shown, doc=doc, semantic=semantic,
                        line_of=source.line_of)
    for parts, first, again in source.duplicates:
        found.append(Problem(shown, manifest_schemas.field_path(parts),
                             f'"{parts[-1]}" is given twice (lines {first} and {again}); YAML'
                             " keeps only the last", "keep one of them", line=again))
    if found:
        raise ScenarioError(sorted(found, key=lambda p: (p.line or 0, p.field_path)))
    return source.data
