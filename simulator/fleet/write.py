"""Writing simulated modules as folders the orchestrator finds: DIR/ID/module.yaml, which runs
`python -m mediagrid.simulator.module scenario.yaml`, and DIR/ID/scenario.yaml beside it,
declaring the same entity types (rule H-12: it offers only what module.yaml declares)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from mediagrid.simulator.fleet.generate import FleetModule
from mediagrid.simulator.module.types import DEFAULT_CONFIG_SCHEMA

COMMAND = ["{python}", "-m", "mediagrid.simulator.module", "scenario.yaml"]
PROXIED = ["{python}", "-m", "mediagrid.simulator.proxy", "--module", "--", *COMMAND]


def module_document(module_id: str, entity_types: Iterable[Mapping[str, Any]], *,
                    name: str = "", version: str = "0.1.0", description: str = "",
                    supervision: Mapping[str, Any] | None = None,
                    env: Mapping[str, str] | None = None, proxied: bool = False,
                    config_schema: Mapping[str, Any] | None = DEFAULT_CONFIG_SCHEMA,
                    ) -> dict[str, Any]:
    """The module.yaml of a simulated module (behind a fault proxy when `proxied`): what the
    simulated module offers, configurable with `config_schema` (its scenario's, or the
    default), and serving the token and TLS as the SDK does."""
    document: dict[str, Any] = {"id": module_id, "name": name or module_id,
                                "version": version}
    if description:
        document["description"] = description
    document["command"] = list(PROXIED if proxied else COMMAND)
    document["entity_types"] = [dict(t) for t in entity_types]
    if config_schema is not None:
        document["configurable"] = True
        document["config_schema"] = dict(config_schema)
    document["security"] = {"token": True, "tls": True}
    if env:
        document["env"] = dict(env)
    if supervision:
        document["supervision"] = dict(supervision)
    return document


def _dump(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=100)


def write_module(folder: Path, module: Mapping[str, Any], scenario: Mapping[str, Any],
                 header: str = "") -> Path:
    """folder/module.yaml and folder/scenario.yaml; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "module.yaml").write_text(header + _dump(module))
    (folder / "scenario.yaml").write_text(header + _dump(scenario))
    return folder


def write_fleet(out: Path, fleet: Iterable[FleetModule], *, seed: int | None = None,
                faults: Mapping[str, Any] | None = None) -> list[Path]:
    """One folder per module under `out`; `faults` (the scenario's switchable keys) go into
    every scenario.yaml. Returns the folders in fleet order."""
    header = "# written by mediagrid simulate --fleet" + (
        f" (seed {seed})" if seed is not None else "") + "\n"
    folders = []
    for module in fleet:
        scenario: dict[str, Any] = {"id": module.id, "version": module.version,
                                    "entity_types": [dict(t) for t in module.entity_types]}
        scenario.update(faults or {})
        where = module.facts["address"]
        document = module_document(module.id, module.entity_types, name=module.name,
                                   version=module.version,
                                   description=f"{module.description}; at {where}")
        folders.append(write_module(out / module.id, document, scenario, header))
    return folders
