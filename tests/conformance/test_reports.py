"""`mediagrid conformance` as a user runs it: a mutant's report names the broken rule, shows
the transcript and the re-run line; JSON and JUnit XML; --rules and --seed; the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mediagrid.conformance.registry import all_checks
from tests.support import ROOT

MUTANTS = ROOT / "simulator" / "mutants" / "modules"


def conformance(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mediagrid.cli", "conformance", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.timeout(150)
def test_a_mutant_report_names_the_rule_shows_the_calls_and_how_to_rerun(
        tmp_path: Path) -> None:
    folder = str(MUTANTS / "ok-for-unknown-id")
    result = conformance(folder, "--rules", "N-5", "--seed", "7",
                         "--json", str(tmp_path / "r.json"),
                         "--junit-xml", str(tmp_path / "junit.xml"))
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "FAIL N-5" in out and "rule N-5 (MUST)" in out  # the rule and its text
    assert "NOT_FOUND for GetEntityStatus" in out  # what was expected
    assert "/mediagrid.v1.EntityService/GetEntityStatus" in out  # the transcript
    reruns = [line for line in out.splitlines() if line.startswith("re-run:")]
    rerun = next(r for r in reruns if "--rules entities.unknown_and_malformed_ids" in r)
    assert rerun.endswith("--seed 7")
    assert "verdict: fail" in out

    body = json.loads((tmp_path / "r.json").read_text())
    assert body["verdict"] == "fail" and body["exit_code"] == 1 and body["seed"] == 7
    failed = [c for c in body["checks"] if c["outcome"] == "fail"]
    assert failed and failed[0]["rule"] == "N-5" and failed[0]["transcript"]
    assert {r["id"]: r["status"] for r in body["rules"]}["N-5"] == "fail"

    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.tag == "testsuite" and int(suite.get("failures", "0")) >= 1
    assert any(case.find("failure") is not None for case in suite.iter("testcase"))

    again = conformance(*rerun.removeprefix("re-run: mediagrid conformance ").split())
    assert again.returncode == 1 and "FAIL N-5" in again.stdout  # the re-run line works


@pytest.mark.timeout(120)
def test_the_same_seed_runs_the_checks_in_the_same_order(tmp_path: Path) -> None:
    orders = []
    for n in range(2):
        conformance(str(MUTANTS / "well-behaved"), "--rules", "N-1,N-2,N-3,N-4", "--seed", "3",
                    "--json", str(tmp_path / f"{n}.json"))
        orders.append([c["check"] for c in json.loads(
            (tmp_path / f"{n}.json").read_text())["checks"]])
    selected = [c.name for c in all_checks() if c.selected_by(("N-1", "N-2", "N-3", "N-4"))]
    assert orders[0] == orders[1] and sorted(orders[0]) == sorted(selected)


def test_bad_input_exits_2() -> None:
    assert conformance().returncode == 2
    assert conformance("--address", "127.0.0.1:1").returncode == 2  # no --manifest
    assert conformance(str(ROOT / "no-such-folder")).returncode == 2
    result = conformance(str(MUTANTS / "well-behaved"), "--rules", "Z-99")
    assert result.returncode == 2 and "selects no check" in result.stderr
    invalid = conformance(str(MUTANTS / "invalid-manifest"))
    assert invalid.returncode == 2 and "C-1" in invalid.stderr
    assert "startup_timout" in invalid.stderr


def test_a_module_that_cannot_start_exits_4(tmp_path: Path) -> None:
    (tmp_path / "module.yaml").write_text(
        'id: crash\ncommand: ["{python}", "-c", "import sys; sys.exit(3)"]\n')
    result = conformance(str(tmp_path))
    assert result.returncode == 4, result.stdout + result.stderr
    assert "could not run" in result.stdout and "exited with code 3" in result.stdout


@pytest.mark.timeout(120)
def test_address_mode_is_partial_and_says_why(tmp_path: Path) -> None:
    """A module already running: launch-only checks are skipped with the reason (exit 3)."""
    from mediagrid.process import free_port

    port = free_port()
    env = {"GRPC_PORT": str(port), "MEDIAGRID_MODULE_ID": "hello", "PYTHONUNBUFFERED": "1"}
    import os

    module = subprocess.Popen([sys.executable, "module.py"], cwd=ROOT / "examples/python/hello",
                              env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        result = conformance("--address", f"127.0.0.1:{port}", "--manifest",
                             "examples/python/hello", "--rules", "H-2,N-6",
                             "--json", str(tmp_path / "r.json"))
        body = json.loads((tmp_path / "r.json").read_text())
        assert result.returncode == 3, result.stdout + result.stderr
        assert body["verdict"] == "partial"
        skipped = {c["check"]: c["reason"] for c in body["checks"] if c["outcome"] == "skip"}
        assert "environment.taken_port_exits_98" in skipped
        assert "needs the suite to start the module" in skipped["environment.taken_port_exits_98"]
        assert {c["check"]: c["outcome"] for c in body["checks"]}[
            "entities.destroy_idempotent"] == "pass"
    finally:
        module.kill()
        module.wait(10)
