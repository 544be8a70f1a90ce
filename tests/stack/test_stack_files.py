"""Stack files: the published schema and the checks beyond it, through `mediagrid validate`;
the built-in demo stack is the one in fixtures/; the config service's file is checked up
front."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mediagrid.reference.services.config.configs import ConfigFileError, load_configs
from mediagrid.reference.stacks.model import DEMO, StackError, load_stack
from tests.support import ROOT

STACKS = ROOT / "fixtures" / "stacks"
INVALID = ROOT / "fixtures" / "invalid-stacks"


def validate(*paths: Path) -> tuple[int, list[dict]]:
    done = subprocess.run([sys.executable, "-m", "mediagrid.cli", "validate", "--json",
                           *map(str, paths)], capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout)


def test_every_fixture_stack_is_valid_and_the_demo_is_the_built_in_one() -> None:
    code, verdicts = validate(*sorted(STACKS.glob("*.yaml")))
    assert code == 0 and all(v["valid"] for v in verdicts), verdicts
    assert yaml.safe_load((STACKS / "demo.yaml").read_text()) == \
        yaml.safe_load(DEMO.read_text())
    demo = load_stack(DEMO)
    assert [p.id for p in demo.pipelines] == ["demo-record", "demo-display", "demo-tone"]
    assert {m.id for m in demo.manifests} == {"sources", "transcoder", "recorder", "display"}


def test_invalid_stacks_name_the_field_and_the_fix() -> None:
    code, verdicts = validate(*sorted(INVALID.glob("*.yaml")), ROOT / "examples/python/hello")
    assert code == 2
    errors = {Path(v["file"]).name: v["errors"] for v in verdicts}
    assert errors["module.yaml"] == []  # a module.yaml beside stack files is checked as one
    [unknown] = errors["unknown-entity.yaml"]
    assert (unknown["field"], unknown["message"]) == ("pipelines[0].sink",
                                                      "no entity 'screen' in this stack")
    assert "pattern" in unknown["fix"]
    [extra] = errors["bad-type.yaml"]
    assert extra["field"] == "pipelines[0]" and "colour" in extra["message"]


def test_the_checks_beyond_the_schema(tmp_path: Path) -> None:
    stack = tmp_path / "s.yaml"
    stack.write_text(yaml.safe_dump({
        "stack": "s", "modules": [str(ROOT / "examples/python"), "missing"],
        "entities": [{"id": "a", "module": "hello", "type": "camera"},
                     {"id": "a", "module": "nobody", "type": "x"},
                     {"id": "v", "module": "hello", "type": "null"}],
        "pipelines": [{"id": "p", "source": "v", "sink": "a", "via": ["v"]}],
        "configs": {"hello": {"k": "v"}}}))
    with pytest.raises(StackError) as caught:
        load_stack(stack)
    found = {p.field_path: p.message for p in caught.value.problems}
    assert "'missing' is not a folder" in found["modules[1]"]
    assert "offers no type 'camera'" in found["entities[0].type"]
    assert "used twice" in found["entities[1].id"]
    assert "no module 'nobody'" in found["entities[1].module"]
    assert "is a sink: it cannot be a source" in found["pipelines[0].source"]
    assert "is a sink, not a converter" in found["pipelines[0].via[0]"]
    assert "not configurable" in found["configs.hello"]


def test_a_config_file_is_checked_before_anything_runs(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("modules:\n  recorder:\n    segment_seconds: 60\n")
    with pytest.raises(ConfigFileError) as caught:
        load_configs(bad)
    assert "modules.recorder.segment_seconds" in str(caught.value)
    assert 'quote it (segment_seconds: "60")' in str(caught.value)
    bad.write_text("modules:\n  Bad_Id: {}\n")
    with pytest.raises(ConfigFileError, match="is not a module id"):
        load_configs(bad)


def test_a_pipeline_joins_one_media_type_from_a_source_and_ids_are_unique(
        tmp_path: Path) -> None:
    stack = tmp_path / "s.yaml"
    stack.write_text(yaml.safe_dump({
        "stack": "s", "modules": ["{reference_modules}"],
        "entities": [{"id": "tone", "module": "sources", "type": "tone"},
                     {"id": "pattern", "module": "sources", "type": "testsrc"},
                     {"id": "rec", "module": "recorder", "type": "file", "media_type": "video"}],
        "pipelines": [{"id": "p", "source": "tone", "sink": "rec"},
                      {"id": "p", "source": "pattern", "sink": "pattern"}]}))
    with pytest.raises(StackError) as caught:
        load_stack(stack)
    found = {p.field_path: p.message for p in caught.value.problems}
    assert found == {"pipelines[0].sink": "'tone' carries audio, 'rec' video",
                     "pipelines[1].id": "pipeline id 'p' is used twice",
                     "pipelines[1].sink": "'pattern' is a source: it cannot be a sink"}
