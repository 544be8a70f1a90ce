"""`mediagrid validate` as a real subprocess: exit codes, the verdict text, --json, schema."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from mediagrid.manifest import schema
from tests.support import ROOT

VALID = "fixtures/modules/rtsp-source"
BAD_DURATION = "fixtures/invalid-modules/bad-duration"
TYPO = "fixtures/invalid-modules/unknown-key-typo/module.yaml"


def mediagrid(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("mediagrid")
    cmd = [exe] if exe else [sys.executable, "-m", "mediagrid.cli"]
    return subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_valid_files_exit_0() -> None:
    result = mediagrid("validate", VALID, "fixtures/modules/tiny/module.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    # the header names the file read, not the folder typed: that is what the problems
    # refer to, and what an editor opens
    assert f"✓ {VALID}/module.yaml  valid  (module rtsp-source, 3 entity types)" in \
        result.stdout
    assert "✓ fixtures/modules/tiny/module.yaml  valid" in result.stdout
    assert "2 files: 2 valid, 0 invalid" in result.stdout


def test_any_invalid_file_exits_2_and_all_are_checked() -> None:
    result = mediagrid("validate", BAD_DURATION, VALID, TYPO)
    assert result.returncode == 2
    out = result.stdout
    assert f"✗ {BAD_DURATION}/module.yaml  invalid, 1 problem" in out
    assert f"✓ {VALID}/module.yaml  valid" in out
    assert f"✗ {TYPO}  invalid" in out
    assert 'error supervision.health_period (line 5): "fast" is not a duration' in out
    assert 'fix: write it like "500ms" or "2s"' in out
    assert 'supervision.helth_period (line 5): unknown key "helth_period"' in out
    assert 'fix: did you mean "health_period"?' in out
    assert "3 files: 1 valid, 2 invalid" in out


def test_json_output_shape() -> None:
    result = mediagrid("validate", "--json", VALID, BAD_DURATION, "fixtures/modules/minimal")
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert [(r["file"], r["valid"], r["id"]) for r in report] == [
        (f"{VALID}/module.yaml", True, "rtsp-source"),
        (f"{BAD_DURATION}/module.yaml", False, None),
        ("fixtures/modules/minimal/module.yaml", True, "minimal")]
    [error] = report[1]["errors"]
    assert error == {
        "file": f"{BAD_DURATION}/module.yaml", "field": "supervision.health_period",
        "message": '"fast" is not a duration', "fix": 'write it like "500ms" or "2s"',
        "severity": "error", "line": 5,
    }
    assert report[0]["errors"] == [] and report[0]["warnings"] == []
    [warning] = report[2]["warnings"]  # minimal's module.py does not exist: a warning only
    assert warning["severity"] == "warning" and warning["field"] == "command[1]"


def test_print_schema_and_usage_errors() -> None:
    result = mediagrid("validate", "--print-schema")
    assert result.returncode == 0 and json.loads(result.stdout) == schema()
    result = mediagrid("validate")
    assert result.returncode == 2 and "give at least one PATH" in result.stderr
    result = mediagrid("validate", "no/such/dir")
    assert result.returncode == 2 and "no such file" in result.stdout


def test_print_schema_with_a_path_is_a_usage_error() -> None:
    """It used to print the schema and ignore the path: a user meaning to check the file
    got exit 0 and a JSON Schema instead."""
    result = mediagrid("validate", "--print-schema", VALID)
    assert result.returncode == 2 and result.stdout == ""
    assert "--print-schema takes no PATH" in result.stderr
    assert VALID in result.stderr  # names what was given


@pytest.mark.parametrize(("command", "codes"), [
    (["validate"], ["0", "2"]),
    (["module", "run"], ["0", "N", "1", "2", "130"]),
])
def test_help_teaches(command: list[str], codes: list[str]) -> None:
    """Each --help says what it does, shows 2-3 examples each with a line saying what it
    is for, and lists every exit code on its own line."""
    result = mediagrid(*command, "--help")
    assert result.returncode == 0
    epilog = result.stdout.split("\nexamples:\n", 1)[1]
    examples, rest = epilog.split("\n\n", 1)
    lines = examples.splitlines()
    commands = [line for line in lines if line.startswith("  mediagrid ")]
    assert 2 <= len(commands) <= 3, examples
    assert len(lines) == 2 * len(commands), "each example has one explaining line"
    listed = rest.split("\nexit codes:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed if line.startswith("  ") and
            not line.startswith("   ")] == codes
