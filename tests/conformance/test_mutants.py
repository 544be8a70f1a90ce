"""Every mutant fails, and fails on the rule it was built to break (mutation score 100 %).

Each mutant runs as a real process from its own module.yaml with only the checks citing its
rule (`--rules RULE`); a group of mutants runs concurrently in one event loop.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from mediagrid.simulator.mutants.catalogue import MUTANTS, Mutant, manifest_text
from mediagrid.simulator.mutants.score import run_all

CHUNK = 5  # mutants per test: small enough for pytest-xdist (worksteal) to balance the workers
GROUPS = [f"{n:02d}" for n in range(0, len(MUTANTS), CHUNK)]


def test_mutant_folders_match_the_catalogue() -> None:
    for mutant in MUTANTS:
        written = (mutant.folder / "module.yaml").read_text()
        assert written == manifest_text(mutant), (
            f"{mutant.folder}/module.yaml is stale: run "
            "python -m mediagrid.simulator.mutants.catalogue --write")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("first", GROUPS)
def test_every_mutant_is_caught_on_its_rule(first: str) -> None:
    start = int(first)
    chosen: tuple[Mutant, ...] = MUTANTS[start:start + CHUNK]
    outcomes = asyncio.run(run_all(chosen, concurrency=4))
    survivors = [f"{o.line()}\n{o.why()}" for o in outcomes if not o.killed]
    assert not survivors, "mutants the suite did not catch on their rule:\n" + "\n".join(
        survivors)


def test_every_patch_replaces_something_the_sdk_has() -> None:
    """A patch naming what the SDK no longer has (renamed, moved) patches nothing: the mutant
    would be the well-behaved module. Run in a process of its own (patches are global)."""
    result = subprocess.run([sys.executable, "-m", "mediagrid.simulator.mutants.audit"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
