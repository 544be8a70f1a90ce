"""The simulated module without faults is a well-behaved module: it passes the whole
conformance suite (`mediagrid conformance`), every check applicable (configurable, token and
TLS included), from a folder the fleet writer made."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mediagrid.simulator.fleet import module_document, write_module
from mediagrid.simulator.module.types import DEFAULT_TYPES
from tests.support import ROOT

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mediagrid.conformance.runner") is None,
    reason="the conformance suite (issue 8) is not on this branch yet")


def test_the_well_behaved_simulated_module_passes_the_full_conformance_suite(
        tmp_path: Path) -> None:
    folder = write_module(tmp_path / "sim", module_document("sim", DEFAULT_TYPES), {"id": "sim"})
    report = tmp_path / "conformance.json"
    done = subprocess.run([sys.executable, "-m", "mediagrid.cli", "conformance", str(folder),
                           "--json", str(report)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    verdict = json.loads(report.read_text())
    failed = [c for c in verdict["checks"] if c["outcome"] not in ("pass",)]
    told = "\n".join(f"{c['check']} {c['outcome']}: {c.get('rule')} expected {c.get('expected')};"
                     f" got {c.get('got')} {c.get('reason', '')}" for c in failed)
    assert done.returncode == 0 and verdict["verdict"] == "pass", told + "\n" + done.stdout[-3000:]
    assert failed == []  # nothing failed, skipped or left not applicable
    assert len(verdict["checks"]) > 50
