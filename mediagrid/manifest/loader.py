"""load_manifest(): module.yaml -> ModuleManifest, or ManifestError listing every problem."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mediagrid.backoff import BackoffPolicy
from mediagrid.manifest import schemas as schema_mod
from mediagrid.manifest.checks import command_warnings, semantic_errors
from mediagrid.manifest.durations import parse_duration
from mediagrid.manifest.files import MANIFEST_NAME, find_manifest_files, manifest_file
from mediagrid.manifest.model import (
    Capabilities,
    EntityTypeSpec,
    GiveUp,
    ManifestError,
    ModuleManifest,
    Problem,
    Security,
    ShutdownLadder,
    Supervision,
)
from mediagrid.manifest.yamlsource import YamlSource, YamlSyntaxError, parse

__all__ = ["MANIFEST_NAME", "load_manifest", "manifest_file"]


def load_manifest(path: str | os.PathLike[str]) -> ModuleManifest:
    """Reads and checks a module.yaml (or a folder holding one).

    Raises ManifestError with every problem found: YAML syntax (with line and column),
    schema violations (with field path and fix) and the semantic checks. Problems that
    do not make the file invalid (a command not found on this machine) come back in
    ModuleManifest.warnings.
    """
    file = manifest_file(path)
    shown = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError([_missing(Path(path), file)]) from None
    except UnicodeDecodeError as exc:
        raise ManifestError([Problem(
            shown, "", f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start})", "a module.yaml is UTF-8 text: is this the right file? "
            "If it is, save it as UTF-8")]) from None
    except OSError as exc:
        raise ManifestError([Problem(shown, "", f"cannot read: {exc.strerror or exc}",
                                     "check the path and the file's permissions")]) from None
    try:
        source = parse(text)
    except YamlSyntaxError as exc:
        raise ManifestError([Problem(
            shown, "", exc.message, exc.fix, line=exc.line,
        )]) from None
    return _check(shown, file, source)


def _missing(given: Path, file: Path) -> Problem:
    """The problem for a module.yaml that is not there, with the likeliest fix."""
    if not given.is_dir():
        return Problem(str(file), "", "no such file or folder", "check the path")
    below = [f.parent for _, f in zip(range(4), find_manifest_files([given]), strict=False)]
    if not below:
        return Problem(str(file), "", "no such file: the folder has no module.yaml",
                       "pass a module's folder (one holding module.yaml), or the file itself")
    shown = ", ".join(str(f) for f in below[:3]) + (", ..." if len(below) > 3 else "")
    glob = str(given).rstrip("/") + "/*" * len(below[0].relative_to(given).parts) + "/"
    return Problem(str(file), "", "no such file: the folder has no module.yaml, but folders "
                   f"below it do ({shown})",
                   f"pass those folders, e.g. {glob} , or the module.yaml files themselves")


def _check(shown: str, file: Path, source: YamlSource) -> ModuleManifest:
    data = source.data

    def problem(parts: tuple[str | int, ...], message: str, fix: str,
                severity: str = "error") -> Problem:
        return Problem(shown, schema_mod.field_path(parts), message, fix,
                       severity, source.line_of(parts))  # type: ignore[arg-type]

    if data is None:
        raise ManifestError([Problem(shown, "", "the file is empty",
                                     "start with `id:` and `command:` (see docs/module-yaml.md)")])
    if not isinstance(data, dict):
        raise ManifestError([problem((), f"the file holds {schema_mod._yaml_type(data)}, "
                                     "not a mapping", "write key: value lines, starting with id:")])
    found = [problem(parts, message, fix) for parts, message, fix in schema_mod.schema_errors(data)]
    for parts, first, again in source.duplicates:
        found.append(problem(parts, f'"{parts[-1]}" is given twice (lines {first} and {again}); '
                             "YAML keeps only the last", "keep one of them"))
    found.extend(semantic_errors(data, problem))
    errors = [p for p in found if p.severity == "error"]
    if errors:
        raise ManifestError(sorted(errors, key=lambda p: (p.line or 0, p.field_path)))
    manifest = _build(file.resolve(), data)
    warnings = [p for p in found if p.severity == "warning"]
    warnings += command_warnings(manifest, problem)
    return _with_warnings(manifest, warnings)


def _with_warnings(manifest: ModuleManifest, warnings: list[Problem]) -> ModuleManifest:
    return replace(manifest, warnings=tuple(warnings))


def _dur(block: dict[str, Any], key: str, default: float) -> float:
    return parse_duration(block[key]) if key in block else default


def _build(path: Path, data: dict[str, Any]) -> ModuleManifest:
    folder = path.parent
    working_dir = data.get("working_dir")
    return ModuleManifest(
        path=path,
        id=data["id"],
        command=tuple(data["command"]),
        name=data.get("name", data["id"]),
        version=data.get("version", "0.0.0"),
        description=data.get("description", ""),
        env=MappingProxyType(dict(data.get("env", {}))),
        working_dir=(folder / working_dir).resolve() if working_dir else None,
        configurable=data.get("configurable", False),
        config_schema=None if data.get("config_schema") is None
        else MappingProxyType(data["config_schema"]),
        entity_types=tuple(_entity_type(spec) for spec in data.get("entity_types", [])),
        supervision=_supervision(data.get("supervision", {})),
        security=Security(**data.get("security", {})),
        conformance=MappingProxyType(dict(data.get("conformance", {}))),
    )


def _entity_type(spec: dict[str, Any]) -> EntityTypeSpec:
    media, protocols, codecs = (
        tuple(spec.get(key, ())) for key in ("media_types", "protocols", "codecs")
    )
    output = spec.get("output")
    return EntityTypeSpec(
        type=spec["type"], kind=spec["kind"], media_types=media,
        description=spec.get("description", ""), protocols=protocols, codecs=codecs,
        properties=MappingProxyType(dict(spec.get("properties", {}))),
        output=None if output is None else Capabilities(
            media_types=tuple(output.get("media_types", media)),
            protocols=tuple(output.get("protocols", protocols)),
            codecs=tuple(output.get("codecs", codecs)),
        ),
        config=None if spec.get("config") is None else MappingProxyType(spec["config"]),
    )


def _supervision(sup: dict[str, Any]) -> Supervision:
    d = Supervision()
    retry, restart = sup.get("startup_retry", {}), sup.get("restart_backoff", {})
    give_up, shutdown = sup.get("give_up", {}), sup.get("shutdown", {})
    return Supervision(
        startup_timeout=_dur(sup, "startup_timeout", d.startup_timeout),
        startup_retry=BackoffPolicy(
            initial=_dur(retry, "initial", d.startup_retry.initial),
            multiplier=float(retry.get("multiplier", d.startup_retry.multiplier)),
            max=_dur(retry, "max", d.startup_retry.max),
            jitter=float(retry.get("jitter", d.startup_retry.jitter)),
        ),
        health_period=_dur(sup, "health_period", d.health_period),
        health_timeout=_dur(sup, "health_timeout", d.health_timeout),
        failure_threshold=int(sup.get("failure_threshold", d.failure_threshold)),
        restart_backoff=BackoffPolicy(
            initial=_dur(restart, "initial", d.restart_backoff.initial),
            multiplier=float(restart.get("multiplier", d.restart_backoff.multiplier)),
            max=_dur(restart, "max", d.restart_backoff.max),
            jitter=float(restart.get("jitter", d.restart_backoff.jitter)),
            reset_after=_dur(restart, "reset_after", d.restart_backoff.reset_after),
            first_at_once=True,
        ),
        give_up=GiveUp(
            max_restarts=int(give_up.get("max_restarts", d.give_up.max_restarts)),
            window=_dur(give_up, "window", d.give_up.window),
        ),
        shutdown=ShutdownLadder(
            rpc_grace=_dur(shutdown, "rpc_grace", d.shutdown.rpc_grace),
            term_grace=_dur(shutdown, "term_grace", d.shutdown.term_grace),
        ),
        restart_policy=sup.get("restart_policy", d.restart_policy),
    )
