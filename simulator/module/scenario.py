"""A simulated module's scenario: what it offers and its faults, as plain frozen data.

    scenario = load_scenario("scenario.yaml")        # ScenarioError naming every problem
    faults = parse_faults({"faults": [{"method": "CreateEntity", "error": "UNAVAILABLE"}]})

The switchable part (`FaultSet`: start, health, memory, reports, faults) is what the control
RPC and SIGUSR1 replace at run time. The format is published as a JSON Schema
(scenario.schema.json, `mediagrid simulate --print-schema`); docs/simulator.md explains it.
"""

from __future__ import annotations

import copy
import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mediagrid.manifest.durations import parse_duration
from mediagrid.simulator.documents import (
    ScenarioError,
    load_document,
    package_schema,
    problems_in,
)
from mediagrid.simulator.module.types import DEFAULT_CONFIG_SCHEMA, DEFAULT_TYPES

DOC = "docs/simulator.md"
SWITCHABLE = ("start", "health", "memory", "reports", "faults")
SIGKILL = -9  # Fault.crash: SIGKILL itself; any other value is an exit code
_SIZE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(B|KB|MB|GB)?$")
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, None: 1}


@cache
def schema() -> dict[str, Any]:
    return package_schema("mediagrid.simulator.module", "scenario.schema.json")


def parse_size(value: str | int) -> int:
    if isinstance(value, int):
        return value
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a size: write it like 512KB or 2MB")
    return int(float(match[1]) * _UNITS[match[2]])


@dataclass(frozen=True)
class Latency:
    """A delay drawn from a distribution (seconds)."""

    distribution: str = "fixed"
    params: tuple[float, float] = (0.0, 0.0)

    def draw(self, rng: random.Random) -> float:
        a, b = self.params
        value = {
            "fixed": lambda: a,
            "uniform": lambda: rng.uniform(a, b),
            "normal": lambda: rng.gauss(a, b),
            "exponential": lambda: rng.expovariate(1 / a) if a > 0 else 0.0,
            "lognormal": lambda: a * math.exp(rng.gauss(0.0, b)),
        }[self.distribution]()
        return max(0.0, value)


@dataclass(frozen=True)
class Fault:
    """One fault: which calls (or when), and its one action."""

    method: str = "*"
    probability: float = 1.0
    after_calls: int = 1
    after: float = 0.0
    until: float | None = None
    at: float | None = None
    latency: Latency | None = None
    error: tuple[str, str] | None = None  # (status code name, message)
    hang: tuple[str, float | None] | None = None  # (rpc | process, for seconds or None)
    crash: int | None = None  # SIGKILL, or an exit code

    @property
    def action(self) -> str:
        return next(name for name in ("latency", "error", "hang", "crash")
                    if getattr(self, name) is not None)

    def describe(self) -> str:
        where = f"at {self.at:g}s" if self.at is not None else self.method
        return f"{self.action} on {where}"


@dataclass(frozen=True)
class FaultSet:
    """The faults in force; the empty FaultSet is a well-behaved module."""

    start_delay: float = 0.0
    never_ready: bool = False
    degraded: str = ""
    flapping: tuple[float, float] | None = None  # (up, down) seconds
    memory_grow: int = 0  # bytes per second
    memory_limit: int = 256 * 1024**2
    reports_late: float = 0.0
    reports_blackout: bool = False
    reports_lose: float = 0.0
    faults: tuple[Fault, ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The document it was read from (shown by the control RPC)."""

    @property
    def quiet(self) -> bool:
        return self == FaultSet()


@dataclass(frozen=True)
class ModuleScenario:
    id: str = "sim"
    version: str = "0.1.0"
    seed: int = 0
    entity_types: tuple[Mapping[str, Any], ...] = ()
    config_schema: Mapping[str, Any] | None = None
    """The module-wide configuration's schema (it is configurable: rules C-3 to C-11)."""
    faults: FaultSet = FaultSet()
    path: Path | None = None


def _latency(value: Any) -> Latency:
    if not isinstance(value, Mapping):
        return Latency("fixed", (parse_duration(value), 0.0))
    kind = value["distribution"]
    d = {k: parse_duration(v) for k, v in value.items() if k not in ("distribution", "sigma")}
    params = {
        "fixed": (d.get("value", 0.0), 0.0),
        "uniform": (d.get("min", 0.0), d.get("max", 0.0)),
        "normal": (d.get("mean", 0.0), d.get("stddev", 0.0)),
        "exponential": (d.get("mean", 0.0), 0.0),
        "lognormal": (d.get("median", 0.0), float(value.get("sigma", 0.5))),
    }[kind]
    return Latency(kind, params)


def _fault(item: Mapping[str, Any]) -> Fault:
    def dur(key: str) -> float | None:
        return parse_duration(item[key]) if key in item else None

    error = item.get("error")
    if isinstance(error, str):
        error = {"code": error}
    hang = item.get("hang")
    if isinstance(hang, str):
        hang = {"scope": hang}
    crash = item.get("crash")
    return Fault(
        method=item.get("method", "*"), probability=float(item.get("probability", 1.0)),
        after_calls=int(item.get("after_calls", 1)), after=dur("after") or 0.0,
        until=dur("until"), at=dur("at"),
        latency=_latency(item["latency"]) if "latency" in item else None,
        error=(error["code"], error.get("message", "")) if error else None,
        hang=(hang["scope"], parse_duration(hang["for"]) if "for" in hang else None)
        if hang else None,
        crash=None if crash is None else SIGKILL if crash == "sigkill" else int(crash["exit"]),
    )


def semantic_problems(data: Any) -> Iterable[tuple[tuple[str | int, ...], str, str]]:
    """What the schema cannot say: timed faults, windows, distributions' parameters."""
    for n, item in enumerate((data or {}).get("faults", [])):
        where = ("faults", n)
        if "at" in item:
            extra = [k for k in ("method", "after_calls", "after", "until", "probability")
                     if k in item]
            if extra:
                yield ((*where, extra[0]), f"a timed fault (at) takes no {extra[0]}",
                       "remove it, or remove `at` to make it a fault of the matching RPCs")
            if "latency" in item or "error" in item or (
                    "hang" in item and _hang_scope(item["hang"]) == "rpc"):
                yield ((*where, "at"), "a timed fault can only crash or hang the process",
                       "use crash, or hang: process; latency and errors belong to RPCs")
        if "after" in item and "until" in item and \
                parse_duration(item["until"]) <= parse_duration(item["after"]):
            yield ((*where, "until"), "until is not after `after`", "make until larger")
        latency = item.get("latency")
        if isinstance(latency, Mapping):
            needs = {"fixed": ("value",), "uniform": ("min", "max"), "normal": ("mean", "stddev"),
                     "exponential": ("mean",), "lognormal": ("median",)}[
                latency["distribution"]]
            for key in needs:
                if key not in latency:
                    yield ((*where, "latency", key),
                           f"a {latency['distribution']} latency needs {key}",
                           f"add {key}: (a duration, like 100ms)")
    flapping = ((data or {}).get("health") or {}).get("flapping")
    if flapping and parse_duration(flapping["up"]) <= 0:
        yield (("health", "flapping", "up"), "up must be above 0", "write a duration like 2s")


def _hang_scope(hang: Any) -> str:
    return hang if isinstance(hang, str) else hang.get("scope", "")


def parse_faults(data: Mapping[str, Any] | None) -> FaultSet:
    """The switchable part of a (checked) scenario document."""
    data = data or {}
    start, health = data.get("start") or {}, data.get("health") or {}
    memory, reports = data.get("memory") or {}, data.get("reports") or {}
    flapping = health.get("flapping")
    return FaultSet(
        start_delay=parse_duration(start.get("delay", 0)),
        never_ready=bool(start.get("never_ready", False)),
        degraded=health.get("degraded", ""),
        flapping=(parse_duration(flapping["up"]), parse_duration(flapping["down"]))
        if flapping else None,
        memory_grow=parse_size(memory["grow"]) if memory else 0,
        memory_limit=parse_size(memory.get("limit", "256MB")),
        reports_late=parse_duration(reports.get("late", 0)),
        reports_blackout=bool(reports.get("blackout", False)),
        reports_lose=float(reports.get("lose", 0.0)),
        faults=tuple(_fault(item) for item in data.get("faults", [])),
        source={k: copy.deepcopy(data[k]) for k in SWITCHABLE if k in data},
    )


def check_faults(data: Any, shown: str = "faults") -> FaultSet:
    """A fault document from the control RPC (only the switchable keys): checked, parsed."""
    data = _integral(data)
    if isinstance(data, Mapping):
        unknown = [k for k in data if k not in SWITCHABLE]
        if unknown:
            from mediagrid.manifest.model import Problem

            raise ScenarioError([Problem(shown, str(unknown[0]), f"{unknown[0]!r} cannot be"
                                         " switched at run time",
                                         f"give only {', '.join(SWITCHABLE)}")])
    problems = problems_in(data, schema(), shown, doc=DOC, semantic=semantic_problems)
    if problems:
        raise ScenarioError(problems)
    return parse_faults(data)


def _integral(value: Any) -> Any:
    """JSON numbers from a protobuf Struct are floats: 3.0 -> 3."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def load_scenario(path: str | Path) -> ModuleScenario:
    """Reads and checks a scenario file; ScenarioError names every problem."""
    data = load_document(path, schema(), doc=DOC, semantic=semantic_problems) or {}
    return ModuleScenario(
        id=data.get("id", "sim"), version=str(data.get("version", "0.1.0")),
        seed=int(data.get("seed", 0)),
        entity_types=tuple(data.get("entity_types") or DEFAULT_TYPES),
        config_schema=data.get("config_schema", DEFAULT_CONFIG_SCHEMA),
        faults=parse_faults(data), path=Path(path),
    )
