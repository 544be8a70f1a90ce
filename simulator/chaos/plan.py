"""The nemesis timeline, drawn from the scenario and the seed before anything runs: the same
seed gives the same timeline (same times, same targets), which the report prints.

Each step gets its own random source (seeded with the run's seed and the step's index), so
adding a step does not move the others. A module is given one fault at a time: a fault
aimed at a module still busy with another (its duration plus RECOVERY seconds to recover)
goes to another matching module, or is left out when none is free.
"""

from __future__ import annotations

import fnmatch
import random
from dataclasses import asdict, dataclass
from typing import Any

from mediagrid.simulator.chaos.scenario import EXPECT, ChaosScenario, StepSpec

RECOVERY = 5.0  # seconds a module gets to recover before another fault may hit it
EVERYONE = "*"


@dataclass(frozen=True)
class Action:
    at: float  # seconds after the nemesis started
    kind: str
    module: str  # "" for the orchestrator and the subscribers
    lasting: float
    step: int
    expect: str
    label: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def times(step: StepSpec, duration: float, rng: random.Random) -> list[float]:
    if step.at:
        return sorted(t for t in step.at if t < duration)
    if step.every is not None:
        out, t = [], step.every * rng.uniform(0.8, 1.2)
        while t < duration:
            out.append(round(t, 3))
            t += step.every * rng.uniform(0.8, 1.2)
        return out
    return sorted(round(rng.uniform(0.05, 0.85) * duration, 3) for _ in range(step.count or 0))


def expectation(step: StepSpec) -> tuple[str, str]:
    """(expect, label) of a step: what it says, else what its kind (or its faults) mean."""
    expect, label = step.expect, step.label
    if step.kind == "faults" and step.faults:
        faults = step.faults.get("faults", [])
        health = step.faults.get("health", {})
        derived = ("unhealthy-restarted", "hang") if any(
            _hang_scope(f) == "process" for f in faults) else \
            ("restarted", "crash") if any("crash" in f for f in faults) else \
            ("degraded", "flapping") if "flapping" in health else \
            ("degraded", "degraded health") if "degraded" in health else ("any", "faults")
        return expect or derived[0], label or derived[1]
    default_label = {"toxic": "slow network", "pause": "hang (SIGSTOP)", "kill": "crash (SIGKILL)",
                     "orchestrator-restart": "orchestrator restart",
                     "subscriber-churn": "subscriber churn"}
    return expect or EXPECT[step.kind], label or default_label.get(step.kind, step.kind)


def _hang_scope(fault: dict[str, Any]) -> str:
    hang = fault.get("hang")
    return hang if isinstance(hang, str) else (hang or {}).get("scope", "")


def plan(scenario: ChaosScenario, seed: int, duration: float) -> list[Action]:
    busy: dict[str, float] = {}
    actions: list[Action] = []
    drawn = []
    for index, step in enumerate(scenario.nemesis):
        rng = random.Random(f"{seed}/{index}/{step.kind}")
        drawn += [(t, index, step, rng) for t in times(step, duration, rng)]
    # A module fault must be over (and recovered from) before the orchestrator is killed,
    # or the restart would hide what the orchestrator made of it.
    restarts = [t for t, _, step, _ in drawn if step.kind == "orchestrator-restart"]
    for t, index, step, rng in sorted(drawn, key=lambda d: (d[0], d[1])):
        if t + step.lasting > duration:
            continue  # it would be cut short by the healing: what it does would not show
        expect, label = expectation(step)
        if step.kind in ("orchestrator-restart", "subscriber-churn"):
            if step.kind == "orchestrator-restart":
                for module_id in scenario.module_ids:
                    busy[module_id] = max(busy.get(module_id, 0), t + step.lasting + RECOVERY)
            actions.append(Action(t, step.kind, "", step.lasting, index, expect, label))
            continue
        candidates = [m for m in scenario.module_ids
                      if fnmatch.fnmatchcase(m, step.target)
                      and (step.target != EVERYONE or scenario.spec_of(m).expect == "ready")]
        free = [m for m in candidates if busy.get(m, 0) <= t]
        if not free or any(t <= r < t + step.lasting + RECOVERY for r in restarts):
            continue
        module_id = rng.choice(free)
        busy[module_id] = t + step.lasting + RECOVERY
        actions.append(Action(t, step.kind, module_id, step.lasting, index, expect, label))
    return actions
