"""The published schema: well formed, documented, in step with the code; valid fixtures pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mediagrid.manifest import Supervision, load_manifest, parse_duration, schema
from mediagrid.manifest.durations import DURATION_PATTERN
from mediagrid.manifest.loader import _supervision
from tests.support import ROOT

VALID = sorted((ROOT / "fixtures" / "modules").glob("*/module.yaml"))


def test_schema_is_valid_draft_2020_12() -> None:
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema())


def _properties(node: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            found.append((f"{where}.{name}", sub))
            found += _properties(sub, f"{where}.{name}")
        for key, sub in node.items():
            if key not in ("properties", "default", "examples"):
                found += _properties(sub, f"{where}.{key}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            found += _properties(sub, f"{where}[{index}]")
    return found


def test_every_field_has_a_description() -> None:
    fields = _properties(schema(), "")
    assert len(fields) > 40
    missing = [where for where, sub in fields if not sub.get("description")]
    assert missing == []


def test_duration_pattern_matches_the_parser() -> None:
    assert schema()["$defs"]["duration"]["pattern"] == DURATION_PATTERN


def test_schema_defaults_are_the_loader_defaults() -> None:
    """The defaults the schema publishes are the ones the loader applies."""
    props = schema()["$defs"]["supervision"]["properties"]
    published = {name: sub["default"] for name, sub in props.items() if "default" in sub}
    assert set(published) == set(props)  # every setting publishes its default
    assert _supervision(published) == Supervision()


def test_supervision_defaults_follow_the_design_table() -> None:
    sup = Supervision()
    assert sup.startup_timeout == 30.0 and sup.health_period == 1.0
    assert sup.health_timeout == 0.5 and sup.failure_threshold == 3
    assert (sup.startup_retry.initial, sup.startup_retry.multiplier, sup.startup_retry.max,
            sup.startup_retry.jitter) == (0.05, 1.6, 1.0, 0.2)
    rb = sup.restart_backoff
    assert (rb.initial, rb.multiplier, rb.max, rb.jitter, rb.reset_after) == (0.5, 2, 30, 0.2, 60)
    assert (sup.give_up.max_restarts, sup.give_up.window) == (5, 60.0)
    assert (sup.shutdown.rpc_grace, sup.shutdown.term_grace) == (5.0, 5.0)
    assert sup.restart_policy == "always"


def test_the_valid_fixtures_include_the_reference_modules() -> None:
    names = {path.parent.name for path in VALID}
    assert {"minimal", "full", "rtsp-source", "transcoder", "recorder", "display"} <= names


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.parent.name)
def test_valid_fixture_passes_schema_and_loader(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    jsonschema.Draft202012Validator(schema()).validate(data)
    manifest = load_manifest(path)
    assert manifest.id == data["id"]
    assert all(p.severity == "warning" for p in manifest.warnings)


def test_full_fixture_sets_every_top_level_field() -> None:
    data = yaml.safe_load((ROOT / "fixtures/modules/full/module.yaml").read_text())
    assert set(data) == set(schema()["properties"])
    sup = data["supervision"]
    assert set(sup) == set(schema()["$defs"]["supervision"]["properties"])
    kinds = {spec["kind"] for spec in data["entity_types"]}
    assert kinds == {"source", "sink", "converter", "protocol"}
    manifest = load_manifest(ROOT / "fixtures/modules/full")
    assert manifest.supervision.restart_backoff.reset_after == parse_duration("1m") == 60.0
    assert manifest.supervision.give_up.window == 60.0
    assert manifest.supervision.restart_policy == "on-failure"
    assert manifest.security.tls and manifest.security.token and manifest.configurable
    assert manifest.env["FRAME_RATE"] == "25"


def test_print_schema_prints_the_shipped_file() -> None:
    from mediagrid.manifest.schemas import schema_text

    shipped = (ROOT / "mediagrid" / "manifest" / "module.schema.json").read_text()
    assert schema_text() == shipped
    assert json.loads(shipped) == schema()
