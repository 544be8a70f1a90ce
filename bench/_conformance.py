"""Shared by conformance_seconds.py and conformance_seconds_node.py: the full suite against one
module, timed, beside the time that module takes to start (the same run's baseline)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mediagrid.conformance.launch import launch  # noqa: E402
from mediagrid.conformance.runner import Options, run_suite  # noqa: E402
from mediagrid.manifest import load_manifest  # noqa: E402

BUDGET = 30.0  # seconds on 2 cores (the target)


async def start_seconds(folder: Path) -> float:
    manifest = load_manifest(folder)
    started = time.monotonic()
    async with launch(manifest):
        return time.monotonic() - started


def measure(folder: Path, name: str) -> int:
    startup = asyncio.run(start_seconds(folder))
    report = asyncio.run(run_suite(load_manifest(folder), Options(seed=1)))
    counts = report.counts()
    print(f"module {report.module_id}: verdict {report.verdict}; {counts['pass']} passed, "
          f"{counts['fail']} failed, {counts['skip']} skipped, {counts['n/a']} not applicable")
    print(f"baseline: the module starts to READY in {startup:.2f} s (same run)")
    print(f"suite: {report.seconds:.1f} s = {report.seconds / startup:.1f}x one start; "
          f"budget {BUDGET:.0f} s ({report.seconds / BUDGET:.2f} of it)")
    print(f"{name}: {report.seconds:.1f}")
    return 0  # the figure is the time; the verdict is printed above it
