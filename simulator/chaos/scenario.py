"""A chaos scenario: modules, workload, subscribers and the nemesis, as plain frozen data.

    scenario = load_chaos_scenario("fixtures/chaos/mixed.yaml")    # ScenarioError otherwise

The format is published as a JSON Schema (scenario.schema.json, `mediagrid chaos
--print-schema`) and checked the way module.yaml is; docs/chaos.md explains it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mediagrid.manifest.durations import parse_duration
from mediagrid.simulator.documents import ScenarioError, load_document, package_schema
from mediagrid.simulator.module.scenario import check_faults
from mediagrid.simulator.proxy.toxics import Toxic, ToxicError

DOC = "docs/chaos.md"
MIX = {"create": 4, "configure": 2, "destroy": 1, "connect": 3, "disconnect": 1,
       "start_flow": 2, "stop_flow": 1}
# What each nemesis kind is expected to make of a module, unless the step says.
EXPECT = {"kill": "restarted", "pause": "unhealthy-restarted", "toxic": "degraded",
          "faults": "any", "orchestrator-restart": "restarted", "rescan": "none",
          "subscriber-churn": "none"}
MODULE_KINDS = ("kill", "pause", "toxic", "faults", "rescan")


@cache
def schema() -> dict[str, Any]:
    return package_schema("mediagrid.simulator.chaos", "scenario.schema.json")


@dataclass(frozen=True)
class ModuleSpec:
    id: str
    count: int = 1
    path: Path | None = None
    proxy: bool = False
    scenario: Mapping[str, Any] = field(default_factory=dict)
    supervision: Mapping[str, Any] = field(default_factory=dict)
    expect: str = "ready"
    fault: str = ""

    @property
    def ids(self) -> list[str]:
        if self.count == 1:
            return [self.id]
        return [f"{self.id}-{n}" for n in range(1, self.count + 1)]

    @property
    def simulated(self) -> bool:
        return self.path is None


@dataclass(frozen=True)
class StepSpec:
    kind: str
    target: str = "*"
    at: tuple[float, ...] = ()
    every: float | None = None
    count: int | None = None
    lasting: float = 0.0  # `for`
    toxic: Mapping[str, Any] | None = None
    faults: Mapping[str, Any] | None = None
    change: bool = False
    expect: str = ""
    label: str = ""


@dataclass(frozen=True)
class WorkloadSpec:
    services: int = 2
    rate: float = 4.0
    max_entities: int = 12
    mix: Mapping[str, float] = field(default_factory=lambda: dict(MIX))


@dataclass(frozen=True)
class ChaosScenario:
    name: str
    modules: tuple[ModuleSpec, ...]
    description: str = ""
    seed: int = 1
    duration: float = 30.0
    quiet: float = 30.0
    orchestrator_command: tuple[str, ...] | None = None
    supervision: Mapping[str, Any] = field(default_factory=dict)
    workload: WorkloadSpec = WorkloadSpec()
    subscribers: int = 2
    churn: float = 0.0
    nemesis: tuple[StepSpec, ...] = ()
    path: Path | None = None

    @property
    def module_ids(self) -> list[str]:
        return [i for m in self.modules for i in m.ids]

    def spec_of(self, module_id: str) -> ModuleSpec:
        return next(m for m in self.modules if module_id in m.ids)


def _step(item: Mapping[str, Any]) -> StepSpec:
    return StepSpec(
        kind=item["kind"], target=item.get("target", "*"),
        at=tuple(parse_duration(t) for t in item.get("at", ())),
        every=parse_duration(item["every"]) if "every" in item else None,
        count=item.get("count"), lasting=parse_duration(item.get("for", 0)),
        toxic=item.get("toxic"), faults=item.get("faults"), change=bool(item.get("change")),
        expect=item.get("expect", ""), label=item.get("label", ""),
    )


def semantic_problems(data: Mapping[str, Any]) -> Iterable[tuple[tuple[str | int, ...], str,
                                                                 str]]:
    """What the schema cannot say: ids after counting, targets, each kind's own keys."""
    modules = [ModuleSpec(m["id"], m.get("count", 1), proxy=bool(m.get("proxy")),
                          path=Path(m["path"]) if "path" in m else None)
               for m in data["modules"]]
    seen: set[str] = set()
    for n, spec in enumerate(modules):
        for module_id in spec.ids:
            if module_id in seen:
                yield (("modules", n, "id"), f"module id {module_id!r} comes twice",
                       "give each module (and each counted one) its own id")
            seen.add(module_id)
        if spec.path is not None and "scenario" in data["modules"][n]:
            yield (("modules", n, "scenario"), "a module with a path is not simulated",
                   "remove scenario, or remove path to simulate it")
    for n, step in enumerate(data.get("nemesis", [])):
        where, kind = ("nemesis", n), step["kind"]
        when = [k for k in ("at", "every", "count") if k in step]
        if len(when) != 1:
            yield ((*where,), "a step needs exactly one of at, every and count",
                   "say when: at: [5s, 20s], every: 10s, or count: 3")
        targets = [m for m in modules for i in m.ids
                   if fnmatch.fnmatchcase(i, step.get("target", "*"))]
        if kind in MODULE_KINDS and not targets:
            yield ((*where, "target"), f"{step.get('target', '*')!r} matches no module",
                   f"use a module id or glob: {', '.join(sorted(seen))}")
        if kind == "toxic":
            if "toxic" not in step:
                yield ((*where,), "a toxic step needs toxic:", "give {type: latency, ...}")
            else:
                try:
                    Toxic.from_dict(step["toxic"])
                except ToxicError as exc:
                    yield ((*where, "toxic"), str(exc), "see docs/simulator.md")
            if any(not m.proxy for m in targets):
                yield ((*where, "target"), "toxics need modules behind a proxy",
                       "set proxy: true on the modules it targets")
        if kind == "faults":
            if "faults" not in step:
                yield ((*where,), "a faults step needs faults:", "give {health: ...} or"
                       " {faults: [...]}, as a simulated module's scenario writes them")
            else:
                try:
                    check_faults(step["faults"], f"nemesis[{n}].faults")
                except ScenarioError as exc:
                    for problem in exc.problems:
                        yield ((*where, "faults"), f"{problem.field_path}: {problem.message}",
                               problem.fix)
            if any(not m.simulated for m in targets):
                yield ((*where, "target"), "faults can be switched on simulated modules only",
                       "target modules without a path")


def load_chaos_scenario(path: str | Path) -> ChaosScenario:
    data = load_document(path, schema(), doc=DOC, semantic=semantic_problems)
    folder = Path(path).resolve().parent
    workload = data.get("workload", {})
    subscribers = data.get("subscribers", {})
    command = data.get("orchestrator", {}).get("command")
    return ChaosScenario(
        name=data["name"], description=data.get("description", ""), seed=data.get("seed", 1),
        duration=parse_duration(data.get("duration", "30s")),
        quiet=parse_duration(data.get("quiet", "30s")),
        orchestrator_command=tuple(command) if command else None,
        supervision=data.get("supervision", {}),
        modules=tuple(ModuleSpec(
            id=m["id"], count=m.get("count", 1),
            path=(folder / m["path"]).resolve() if "path" in m else None,
            proxy=bool(m.get("proxy", False)), scenario=m.get("scenario") or {},
            supervision=m.get("supervision", {}), expect=m.get("expect", "ready"),
            fault=m.get("fault", "")) for m in data["modules"]),
        workload=WorkloadSpec(
            services=workload.get("services", 2), rate=float(workload.get("rate", 4.0)),
            max_entities=workload.get("max_entities", 12),
            mix={**MIX, **workload.get("mix", {})}),
        subscribers=subscribers.get("count", 2),
        churn=parse_duration(subscribers.get("churn", 0)),
        nemesis=tuple(_step(s) for s in data.get("nemesis", [])),
        path=Path(path),
    )
