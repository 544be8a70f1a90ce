"""Chaos at scale: 200 simulated modules under the reference orchestrator (`mediagrid up`, a
process), a light workload and a subscriber following the event log, and one SIGKILL every
2 s for a minute. Figures: reports lost and duplicated (from the chaos run's history checker
against the modules' journals of acknowledged reports: must be 0), every invariant's
verdict, and the orchestrator's CPU share (user + system time from /proc, % of one core):
under the kills and, as the baseline of the same run, over the first 20 s of the nemesis
before the first kill (the same modules and workload, nothing killed).
Last line: `chaos_scale: X`, the orchestrator's CPU under kills over its CPU without.

    python bench/chaos_scale.py [--modules 200] [--kills 30] [--every 2] [--idle 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mediagrid  # noqa: E402, F401, I001 - before grpc: it turns gRPC's fork support off

from rich.console import Console  # noqa: E402

from mediagrid.simulator.chaos import ChaosRun, RunOptions  # noqa: E402
from mediagrid.simulator.chaos.scenario import (  # noqa: E402
    ChaosScenario,
    ModuleSpec,
    StepSpec,
    WorkloadSpec,
)

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def scenario(modules: int, kills: int, every: float, idle: float) -> ChaosScenario:
    return ChaosScenario(
        name="scale", duration=idle + kills * every + 1, quiet=120.0,
        supervision={"startup_timeout": "5m", "give_up": {"max_restarts": 100,
                                                          "window": "1m"}},
        modules=(ModuleSpec("sim", count=modules),),
        workload=WorkloadSpec(services=2, rate=2.0),
        subscribers=1,
        nemesis=(StepSpec("kill", target="sim-*",
                          at=tuple(idle + every * n for n in range(kills))),),
    )


async def measure(run: ChaosRun, idle: float) -> tuple[object, dict[str, float]]:
    cpu: dict[str, float] = {}

    async def sample() -> None:
        while run.phase != "nemesis":  # noqa: ASYNC110 - set by the run, no event
            await asyncio.sleep(0.05)
        assert run.orchestrator is not None and run.orchestrator.proc is not None
        pid, began = run.orchestrator.proc.pid, run.nemesis_began
        marks = [("start", began), ("first kill", began + idle),
                 ("end", began + run.options.duration)]
        for name, at in marks:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            cpu[name] = cpu_seconds(pid)
        cpu["idle"] = (cpu["first kill"] - cpu["start"]) / idle * 100
        cpu["kills"] = (cpu["end"] - cpu["first kill"]) / (run.options.duration - idle) * 100

    sampler = asyncio.ensure_future(sample())
    report = await run.run()
    await asyncio.wait_for(sampler, 5)
    return report, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", type=int, default=200)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--every", type=float, default=2.0)
    parser.add_argument("--idle", type=float, default=20.0)
    args = parser.parse_args()
    plan = scenario(args.modules, args.kills, args.every, args.idle)
    run = ChaosRun(plan, RunOptions(seed=1, duration=plan.duration, quiet=plan.quiet),
                   console=Console(stderr=True))
    started = time.monotonic()
    report, cpu = asyncio.run(measure(run, args.idle))
    data = report.to_dict()  # type: ignore[attr-defined]
    for verdict in data["invariants"]:
        print(f"{verdict['name']:28s} {'holds' if verdict['ok'] else 'BROKEN'}:"
              f" {verdict['detail']}")
    kills = data["per_fault_kind"].get("crash (SIGKILL)", {})
    converge = kills.get("converge_ms") or {}
    print(f"{args.modules} simulated modules, {len(data['faults'])} SIGKILLs one every"
          f" {args.every:g} s; wall {time.monotonic() - started:.0f} s")
    print(f"converge after a kill: p50 {converge.get('p50', '-')} ms, p95"
          f" {converge.get('p95', '-')} ms")
    print(f"reports acknowledged {data['events']['acknowledged']}, lost"
          f" {data['events']['lost']}, duplicated {data['events']['duplicated']}")
    print(f"orchestrator CPU, % of one core: {cpu['idle']:.1f} without kills,"
          f" {cpu['kills']:.1f} under kills")
    print(f"reports_lost: {data['events']['lost']}")
    print(f"chaos_scale: {cpu['kills'] / cpu['idle']:.3f}")
    return 0 if data["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
