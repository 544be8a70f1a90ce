"""The pytest plugin: a module's own test run checks it, one test item per check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mediagrid.conformance.registry import all_checks
from tests.support import ROOT


def run_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist",  # the plugin: its entry point
         "-p", "no:cacheprovider", "-q", "-rs", "--rootdir", str(tmp_path), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=150)


@pytest.mark.timeout(180)
def test_plugin_passes_a_good_module_and_fails_a_mutant(tmp_path: Path) -> None:
    # C-5's check is not applicable to hello (not configurable): a skipped item, not a pass
    good = run_pytest(tmp_path, "--mediagrid-module", str(ROOT / "examples/python/hello"),
                      "--mediagrid-rules", "N-6,N-2,C-5")
    assert good.returncode == 0, good.stdout + good.stderr
    selected = [c for c in all_checks() if c.selected_by(("N-6", "N-2"))]
    # one test item per check, and conformance::teardown
    assert f"{len(selected) + 1} passed, 1 skipped" in good.stdout
    assert "configurable: true" in good.stdout  # the reason, with -rs

    bad = run_pytest(tmp_path, "--mediagrid-module",
                     str(ROOT / "simulator/mutants/modules/destroy-not-idempotent"),
                     "--mediagrid-rules", "N-6", "--mediagrid-seed", "7")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "seed 7" in bad.stdout  # the order is replayable
    assert "N-6: `DestroyEntity` is idempotent" in bad.stdout  # the rule text
    assert "/mediagrid.v1.EntityService/DestroyEntity" in bad.stdout
