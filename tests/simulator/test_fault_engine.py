"""Which calls a simulated module's fault hits, exactly (docs/simulator.md, the scenario's
schema): from the N-th matching call on (a crash: on the N-th), only inside its window
counted from when the faults were switched in, and a pattern without a service matches
mediagrid RPCs only. An injected clock makes the windows exact; the process tests
(test_module_faults.py) show what a hit fault does to a real call."""

from __future__ import annotations

import asyncio
from typing import Any

from mediagrid.simulator.module.faults import FaultEngine, matches
from mediagrid.simulator.module.scenario import FaultSet, check_faults

CREATE = "/mediagrid.v1.EntityService/CreateEntity"
HEALTH = "/grpc.health.v1.Health/Check"


class Refusals:
    """What the engine does to a call's servicer context: abort(code, message), recorded."""

    def __init__(self) -> None:
        self.codes: list[str] = []

    async def abort(self, code: Any, message: str) -> None:
        self.codes.append(code.name)


def outcome(engine: FaultEngine, method: str = CREATE) -> str:
    context = Refusals()
    asyncio.run(engine.before(method, context))  # type: ignore[arg-type]
    return context.codes[0] if context.codes else "OK"


def test_an_error_after_n_calls_hits_the_nth_call_and_every_one_after() -> None:
    engine = FaultEngine(check_faults({"faults": [
        {"method": "CreateEntity", "after_calls": 3, "error": "UNAVAILABLE"}]}))
    assert [outcome(engine) for _ in range(5)] == ["OK", "OK", "UNAVAILABLE", "UNAVAILABLE",
                                                   "UNAVAILABLE"]


def test_a_window_counts_from_the_switch_not_from_the_start() -> None:
    now = [0.0]
    engine = FaultEngine(FaultSet(), clock=lambda: now[0])
    now[0] = 100.0  # the module ran for 100 s, then the faults were switched in
    engine.replace(check_faults({"faults": [
        {"method": "CreateEntity", "after": "5s", "until": "9s", "error": "ABORTED"}]}))
    seen = []
    for at in (104.9, 105.0, 108.9, 109.0):
        now[0] = at
        seen.append(outcome(engine))
    assert seen == ["OK", "ABORTED", "ABORTED", "OK"]


def test_a_pattern_without_a_service_matches_mediagrid_rpcs_only() -> None:
    assert matches("*", CREATE) and matches("EntityService/Create*", CREATE)
    assert not matches("PipelineService/*", CREATE)
    assert not matches("*", HEALTH) and not matches("Check", HEALTH)
    assert matches("Health/Check", HEALTH) and matches("grpc.health.v1.Health/Check", HEALTH)
    assert not matches("*", "/mediagrid.simulator.v1.SimulatorControl/SetFaults")
    engine = FaultEngine(check_faults({"faults": [{"method": "*", "error": "UNAVAILABLE"}]}))
    assert outcome(engine, HEALTH) == "OK" and outcome(engine) == "UNAVAILABLE"
