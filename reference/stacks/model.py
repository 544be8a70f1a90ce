"""Reading and checking a stack file: the published JSON Schema (stack.schema.json), then what
a schema cannot say (ids unique, every entity's module and type exist in the module folders,
pipelines name entities of the stack, converters in `via`, configs for configurable modules).
Every problem names the file, the field and the fix, as `mediagrid validate` does for
module.yaml files.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from mediagrid.manifest.discovery import scan
from mediagrid.manifest.model import ManifestError, ModuleManifest, Problem

SCHEMA_FILE = Path(__file__).with_name("stack.schema.json")
REFERENCE_MODULES = "{reference_modules}"
DEMO = Path(__file__).with_name("demo.yaml")


class StackError(ManifestError):
    """A stack file is invalid; `problems` lists every problem found."""


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


def reference_modules() -> Path:
    from mediagrid import reference
    return Path(reference.__file__).resolve().parent / "modules"


def is_stack_file(path: str | os.PathLike[str]) -> bool:
    """A YAML file whose top level has `stack:` (a module.yaml never has one)."""
    file = Path(path)
    if not file.is_file() or file.name == "module.yaml":
        return False
    try:
        document = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return False
    return isinstance(document, dict) and "stack" in document


@dataclass(frozen=True)
class StackEntity:
    id: str
    module: str
    type: str
    media: str  # "video" or "audio"
    name: str = ""
    config: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StackPipeline:
    id: str
    source: str
    sink: str
    via: tuple[str, ...] = ()
    name: str = ""
    transport: str = ""
    start: bool = True
    quality: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stack:
    path: Path
    name: str
    description: str
    module_dirs: tuple[Path, ...]
    manifests: tuple[ModuleManifest, ...]
    entities: tuple[StackEntity, ...]
    pipelines: tuple[StackPipeline, ...]
    configs: dict[str, dict[str, str]]

    def entity(self, entity_id: str) -> StackEntity:
        return next(e for e in self.entities if e.id == entity_id)


def load_stack(path: str | os.PathLike[str]) -> Stack:
    """The stack in `path`; StackError listing every problem."""
    file = Path(path)
    shown = str(path)
    try:
        document = yaml.safe_load(file.read_text())
    except OSError as exc:
        raise StackError([Problem(shown, "", f"cannot be read ({exc.strerror})",
                                  "give the path of a stack file")]) from None
    except yaml.YAMLError as exc:
        raise StackError([Problem(shown, "", f"not valid YAML: {exc}",
                                  "fix the YAML syntax")]) from None
    problems = [Problem(shown, _dotted(e.absolute_path), e.message, _fix(e))
                for e in sorted(jsonschema.Draft202012Validator(schema()).iter_errors(document),
                                key=lambda e: list(map(str, e.absolute_path)))]
    if problems:
        raise StackError(problems)
    stack, problems = _build(file.resolve(), shown, document)
    if problems:
        raise StackError(problems)
    return stack


def _dotted(path: Any) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _fix(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"remove it; allowed here: {allowed}" if allowed else "remove it"
    if error.validator == "required":
        return "add it (docs/stacks.md)"
    if error.validator == "pattern":
        return f"match {error.schema['pattern']}"
    if error.validator == "enum":
        return f"use one of {', '.join(map(str, error.schema['enum']))}"
    return "see docs/stacks.md"


def _build(file: Path, shown: str, doc: dict[str, Any]) -> tuple[Stack, list[Problem]]:
    problems: list[Problem] = []

    def problem(where: str, message: str, fix: str) -> None:
        problems.append(Problem(shown, where, message, fix))

    dirs = []
    for n, entry in enumerate(doc["modules"]):
        folder = reference_modules() if entry == REFERENCE_MODULES else \
            (file.parent / entry).resolve()
        if not folder.is_dir():
            problem(f"modules[{n}]", f"{entry!r} is not a folder ({folder})",
                    "give a folder holding module.yaml files, relative to the stack file")
        dirs.append(folder)
    found = scan([d for d in dirs if d.is_dir()])
    for p in found.problems:
        problem("modules", f"{p.file}: {p.message}", p.fix)
    manifests = {m.id: m for m in found.manifests}
    entities = []
    for n, e in enumerate(doc.get("entities") or []):
        where = f"entities[{n}]"
        if any(x.id == e["id"] for x in entities):
            problem(f"{where}.id", f"entity id {e['id']!r} is used twice", "give each its own id")
        manifest = manifests.get(e["module"])
        media = e.get("media_type", "")
        if manifest is None:
            problem(f"{where}.module", f"no module {e['module']!r} in the module folders"
                    f" (found: {', '.join(sorted(manifests)) or 'none'})",
                    "fix the id or add the module's folder to modules")
        else:
            spec = manifest.entity_type(e["type"])
            if spec is None:
                offered = ", ".join(t.type for t in manifest.entity_types)
                problem(f"{where}.type", f"module {manifest.id!r} offers no type {e['type']!r}"
                        f" (offered: {offered})", "use one of the offered types")
            elif media and media not in spec.media_types:
                problem(f"{where}.media_type", f"type {e['type']!r} carries"
                        f" {', '.join(spec.media_types)}, not {media}",
                        f"use {' or '.join(spec.media_types)}")
            elif not media and len(spec.media_types) > 1:
                problem(f"{where}.media_type", f"type {e['type']!r} carries"
                        f" {' and '.join(spec.media_types)}: say which",
                        f"add media_type: {spec.media_types[0]}")
            elif not media:
                media = spec.media_types[0]
        entities.append(StackEntity(e["id"], e["module"], e["type"], media, e.get("name", ""),
                                    dict(e.get("config") or {})))
    known = {e.id: e for e in entities}
    pipelines = []
    for n, p in enumerate(doc.get("pipelines") or []):
        where = f"pipelines[{n}]"
        if any(x.id == p["id"] for x in pipelines):
            problem(f"{where}.id", f"pipeline id {p['id']!r} is used twice",
                    "give each its own id")
        names = [("source", p["source"]), ("sink", p["sink"]),
                 *((f"via[{i}]", v) for i, v in enumerate(p.get("via") or []))]
        for key, entity_id in names:
            if entity_id not in known:
                problem(f"{where}.{key}", f"no entity {entity_id!r} in this stack",
                        f"use one of: {', '.join(known) or '(none: add entities)'}")
        _check_roles(where, p, known, manifests, problem)
        pipelines.append(StackPipeline(
            p["id"], p["source"], p["sink"], tuple(p.get("via") or ()), p.get("name", ""),
            p.get("transport", ""), p.get("start", True), dict(p.get("quality") or {})))
    configs = {k: dict(v) for k, v in (doc.get("configs") or {}).items()}
    for module_id in configs:
        manifest = manifests.get(module_id)
        if manifest is None:
            problem(f"configs.{module_id}", f"no module {module_id!r} in the module folders",
                    "fix the id or add the module's folder to modules")
        elif not manifest.configurable:
            problem(f"configs.{module_id}", f"module {module_id!r} is not configurable (its"
                    " module.yaml has no configurable: true)", "remove its configuration")
    return Stack(file, doc["stack"], doc.get("description", ""), tuple(dirs),
                 tuple(manifests.values()), tuple(entities), tuple(pipelines),
                 configs), problems


def _check_roles(where: str, p: dict[str, Any], known: dict[str, StackEntity],
                 manifests: dict[str, ModuleManifest], problem: Any) -> None:
    def kind(entity_id: str) -> str:
        e = known.get(entity_id)
        manifest = manifests.get(e.module) if e else None
        spec = manifest.entity_type(e.type) if manifest and e else None
        return spec.kind if spec else ""
    if kind(p["source"]) == "sink":
        problem(f"{where}.source", f"{p['source']!r} is a sink: it cannot be a source",
                "name a source, or a converter another pipeline feeds")
    if kind(p["sink"]) == "source":
        problem(f"{where}.sink", f"{p['sink']!r} is a source: it cannot be a sink",
                "name a sink")
    for i, v in enumerate(p.get("via") or []):
        if kind(v) not in ("", "converter"):
            problem(f"{where}.via[{i}]", f"{v!r} is a {kind(v)}, not a converter",
                    "list converters only")
    source, sink = known.get(p["source"]), known.get(p["sink"])
    if source and sink and source.media and sink.media and source.media != sink.media:
        problem(f"{where}.sink", f"{p['source']!r} carries {source.media}, {p['sink']!r}"
                f" {sink.media}", "join entities of one media type")


def expand(value: str, stack_dir: Path, cwd: Path) -> str:
    """A config value with {cwd}, {stack_dir} and {has_display} filled in."""
    has_display = "true" if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") \
        else "false"
    return (value.replace("{cwd}", str(cwd)).replace("{stack_dir}", str(stack_dir))
            .replace("{has_display}", has_display))


def verdict(path: str) -> tuple[Stack | None, list[Problem]]:
    """`mediagrid validate` on a stack file: the stack, or every problem."""
    try:
        return load_stack(path), []
    except StackError as exc:
        return None, exc.problems
