"""Configs for the checks: valid ones from each type's config schema (`default`, `examples`)
or module.yaml's `conformance:` section, invalid ones generated from the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from mediagrid.manifest.durations import parse_duration
from mediagrid.manifest.model import EntityTypeSpec, ModuleManifest

DEFAULT_STALL_PERIOD = 5.0  # contract P-11
DEFAULT_START_PERIOD = 10.0  # contract P-21


@dataclass(frozen=True)
class InvalidConfig:
    key: str  # the key at fault: the module's error must name it
    config: dict[str, str]
    why: str


def stall_period(manifest: ModuleManifest) -> float:
    value = manifest.conformance.get("stall_period")
    return DEFAULT_STALL_PERIOD if value is None else parse_duration(value)


def start_period(manifest: ModuleManifest) -> float:
    value = manifest.conformance.get("start_period")
    return DEFAULT_START_PERIOD if value is None else parse_duration(value)


def _sample(schema: Mapping[str, Any]) -> str | None:
    if isinstance(schema.get("default"), str):
        return schema["default"]
    examples = [e for e in schema.get("examples", ()) if isinstance(e, str)]
    if examples:
        return examples[0]
    if "const" in schema and isinstance(schema["const"], str):
        return schema["const"]
    enum = [e for e in schema.get("enum", ()) if isinstance(e, str)]
    return enum[0] if enum else None


def valid_config(manifest: ModuleManifest, spec: EntityTypeSpec,
                 scratch: str = "") -> dict[str, str] | None:
    """A config the type must accept, or None when the suite cannot build one (then the
    module author adds `conformance.entity_types.TYPE.config` to module.yaml). `{tmp}` in a
    sample value is a folder of the run's own, removed afterwards (a recorder's path)."""
    sample = manifest.conformance.get("entity_types", {}).get(spec.type, {}).get("config")
    if sample is not None:
        return {k: str(v).replace("{tmp}", scratch or "/tmp") for k, v in sample.items()}
    return valid_from_schema(spec.config)


def valid_from_schema(schema: Mapping[str, Any] | None) -> dict[str, str] | None:
    """A config map the schema accepts, from its examples or its keys' defaults."""
    if schema is None:
        return {}
    examples = [e for e in schema.get("examples", ()) if isinstance(e, dict)]
    if examples:
        return {str(k): str(v) for k, v in examples[0].items()}
    config: dict[str, str] = {}
    properties = schema.get("properties", {})
    for key in schema.get("required", ()):
        value = _sample(properties.get(key, {}))
        if value is None:
            return None
        config[key] = value
    return config


def missing_config_reason(spec: EntityTypeSpec) -> str:
    return (f"no valid config for entity type {spec.type!r}: its config schema gives no default "
            f"or examples for a required key; add conformance.entity_types.{spec.type}.config "
            "to module.yaml")


def invalid_configs(spec: EntityTypeSpec, valid: Mapping[str, str]) -> list[InvalidConfig]:
    """Configs the type's schema refuses, each with the key at fault. Every one is checked
    against the schema itself, so the suite never asks a module to refuse a valid config."""
    schema = spec.config
    if not schema:
        return []
    validator = jsonschema.Draft202012Validator(schema)
    found: list[InvalidConfig] = []
    for key, prop in schema.get("properties", {}).items():
        if not isinstance(prop, Mapping):
            continue
        if prop.get("enum"):
            found.append(InvalidConfig(key, {**valid, key: "conformance-not-in-enum"},
                                       f"{key} not one of its enum values"))
        elif prop.get("pattern"):
            found.append(InvalidConfig(key, {**valid, key: "\x01 no pattern matches this"},
                                       f"{key} not matching {prop['pattern']}"))
    for key in schema.get("required", ()):
        if "default" in schema.get("properties", {}).get(key, {}):
            continue  # a module may fill the default in: not clearly invalid
        config = {k: v for k, v in valid.items() if k != key}
        found.append(InvalidConfig(key, config, f"required key {key} left out"))
    if schema.get("additionalProperties") is False:
        found.append(InvalidConfig("conformance_unknown_key",
                                   {**valid, "conformance_unknown_key": "x"}, "an unknown key"))
    return [item for item in found if not validator.is_valid(item.config)]


def accepts_extra_keys(spec: EntityTypeSpec) -> bool:
    schema = spec.config
    if not schema:
        return True
    closed = (schema.get("additionalProperties") is False
              or schema.get("unevaluatedProperties") is False)
    return not closed
