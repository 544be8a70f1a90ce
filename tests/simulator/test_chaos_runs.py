"""Whole chaos runs as a user starts them (`mediagrid chaos ...` in a process): the mixed
scenario passes against the reference orchestrator, and an orchestrator with a planted bug
(desired state not re-created, rule H-15) makes the run fail naming the invariant. Every
fixture at its default duration is a soak test (`pytest -m soak`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import ROOT

FIXTURES = ROOT / "fixtures" / "chaos"
BROKEN = Path(__file__).with_name("broken_orchestrator.py")


def chaos(*args: str, timeout: float = 240) -> tuple[int, dict[str, Any], str]:
    """`mediagrid chaos ... --json`: (exit code, the report, stderr)."""
    done = subprocess.run([sys.executable, "-m", "mediagrid.cli", "chaos", *args, "--json"],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"no JSON report (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.returncode, report, done.stderr


def no_leftovers(report: dict[str, Any]) -> None:
    leaks = next(v for v in report["invariants"] if v["name"] == "no-orphans-no-leaked-ports")
    assert leaks["ok"], leaks["detail"]


def test_the_mixed_scenario_passes_against_the_reference_orchestrator() -> None:
    """Shortened to 12 s of nemesis for the default run; `-m soak` runs it whole."""
    code, report, stderr = chaos(str(FIXTURES / "mixed.yaml"), "--seed", "1",
                                 "--duration", "12s", "--quiet", "30s")
    assert code == 0 and report["ok"], json.dumps(report["invariants"], indent=1) + stderr
    kinds = set(report["per_fault_kind"])
    assert {"hang", "flapping", "crash (SIGKILL)", "crash loop"} <= kinds
    assert report["events"]["acknowledged"] > 0
    assert report["events"]["lost"] == report["events"]["duplicated"] == 0
    assert all(f["ok"] for f in report["faults"])
    assert report["workload"]["ok"] > 0 and report["workload"]["unresolved"] == 0


def test_a_planted_orchestrator_bug_fails_the_run_naming_the_invariant(
        tmp_path: Path) -> None:
    """The orchestrator forgets to re-create desired state after a module restart: the
    module comes back READY, empty; the runner says desired-state-converged is broken."""
    scenario = tmp_path / "forgetful.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "forgetful", "duration": "6s", "quiet": "6s",
        "supervision": {"health_period": "300ms", "health_timeout": "300ms",
                        "restart_backoff": {"initial": "100ms", "max": "1s"},
                        "shutdown": {"rpc_grace": "1s", "term_grace": "1s"}},
        "modules": [{"id": "cam", "count": 2}],
        "workload": {"services": 1, "rate": 6, "mix": {"destroy": 0, "disconnect": 0}},
        "subscribers": {"count": 1},
        "nemesis": [{"kind": "kill", "target": "cam-*", "at": ["4s"]}],
    }))
    command = f"{sys.executable} {BROKEN} --modules {{modules}} --address {{address}}" \
              " --state {state}"
    code, report, _ = chaos(str(scenario), "--orchestrator", command)
    assert code == 1 and not report["ok"]
    assert "desired-state-converged" in report["failed"]
    broken = next(v for v in report["invariants"] if v["name"] == "desired-state-converged")
    assert "is missing" in broken["detail"]
    assert report["orchestrator"][:2] == [sys.executable, str(BROKEN)]
    no_leftovers(report)


@pytest.mark.soak
@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.yaml")))
def test_every_scenario_passes_at_its_default_duration(name: str, tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    code, report, stderr = chaos(str(FIXTURES / f"{name}.yaml"), "--report", str(report_file),
                                 timeout=600)
    assert code == 0 and report["ok"], json.dumps(report["invariants"], indent=1) + stderr
    assert json.loads(report_file.read_text()) == report
    assert report["wall_s"] < 120
    no_leftovers(report)
