"""The module folders of a chaos run: simulated modules (module.yaml + scenario.yaml, with
the journal the runner reads) and copies of real module folders, each with the scenario's
supervision, some behind a fault proxy."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mediagrid.simulator.chaos.scenario import ChaosScenario, ModuleSpec
from mediagrid.simulator.fleet import module_document, write_module
from mediagrid.simulator.fleet.write import PROXIED
from mediagrid.simulator.module.journal import VARIABLE as JOURNAL
from mediagrid.simulator.module.types import DEFAULT_CONFIG_SCHEMA, DEFAULT_TYPES

PROXY_PREFIX = PROXIED[: PROXIED.index("--") + 1]


def merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` on `base`, nested mappings key by key."""
    out = dict(base)
    for key, value in over.items():
        out[key] = merged(out[key], value) if isinstance(value, Mapping) and isinstance(
            out.get(key), Mapping) else value
    return out


def write_modules(scenario: ChaosScenario, folder: Path, journal: Path) -> dict[str, Path]:
    """One folder per module id under `folder`; returns id -> folder."""
    written: dict[str, Path] = {}
    for spec in scenario.modules:
        supervision = merged(scenario.supervision, spec.supervision)
        for number, module_id in enumerate(spec.ids):
            target = folder / module_id
            if spec.simulated:
                _simulated(spec, module_id, number, target, supervision, journal)
            else:
                _copied(spec, module_id, target, supervision, journal)
            written[module_id] = target
    return written


def _simulated(spec: ModuleSpec, module_id: str, number: int, target: Path,
               supervision: Mapping[str, Any], journal: Path) -> None:
    types = spec.scenario.get("entity_types") or list(DEFAULT_TYPES)
    scenario = {"id": module_id, "seed": number, **spec.scenario, "entity_types": types}
    document = module_document(module_id, types, supervision=supervision,
                               env={JOURNAL: str(journal)}, proxied=spec.proxy,
                               description=f"simulated module of a chaos run ({spec.id})",
                               config_schema=spec.scenario.get("config_schema",
                                                               DEFAULT_CONFIG_SCHEMA))
    write_module(target, document, scenario)


def _copied(spec: ModuleSpec, module_id: str, target: Path, supervision: Mapping[str, Any],
            journal: Path) -> None:
    assert spec.path is not None
    shutil.copytree(spec.path, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    manifest = target / "module.yaml"
    document = yaml.safe_load(manifest.read_text())
    document["id"] = module_id
    document["supervision"] = merged(document.get("supervision") or {}, supervision)
    if spec.proxy:  # the sidecar journals its proxy's control address
        document["command"] = [*PROXY_PREFIX, *document["command"]]
        document["env"] = {**(document.get("env") or {}), JOURNAL: str(journal)}
    manifest.write_text(yaml.safe_dump(document, sort_keys=False))


def touch_manifest(folder: Path, stamp: str) -> None:
    """Changes a module.yaml (its description), so a rescan replaces the module."""
    manifest = folder / "module.yaml"
    document = yaml.safe_load(manifest.read_text())
    document["description"] = f"{document.get('description', '')} [{stamp}]".strip()
    manifest.write_text(yaml.safe_dump(document, sort_keys=False))
