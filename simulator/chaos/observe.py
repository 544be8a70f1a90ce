"""What each fault did, observed against what was expected, with its times:

- detect: from the injection to the first change the orchestrator published for the module
  (E-17 MODULE_STATE_CHANGED: a state other than READY or a health other than HEALTHY);
- ready: to READY and HEALTHY again after that;
- converge: to the module holding its desired state again (polled live: `ConvergeProbe`).

The classification reads the orchestrator's own events about the module, from the injection
to the next fault on it (or the end): `error` (it ended in ERROR), `unhealthy-restarted`
(failed health checks made it UNHEALTHY, then it was restarted), `restarted`, `degraded`
(DEGRADED, not restarted), or `none`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from mediagrid.simulator.chaos.model import Model
from mediagrid.simulator.chaos.nemesis import Injected
from mediagrid.simulator.chaos.subscribers import Seen
from mediagrid.simulator.module.control import ControlClient
from mediagrid.v1 import (
    entity_pb2,
    entity_pb2_grpc,
    event_pb2,
    module_pb2,
    orchestrator_pb2,
    orchestrator_pb2_grpc,
)

STATE_CHANGED, RESTARTED = (event_pb2.EVENT_TYPE_MODULE_STATE_CHANGED,
                            event_pb2.EVENT_TYPE_MODULE_RESTARTED)
RESTARTING = ("restarted", "unhealthy-restarted")


@dataclass
class FaultRecord:
    label: str
    kind: str
    module: str  # "" for the orchestrator
    at: float
    expect: str
    observed: str = "none"
    detect: float | None = None
    ready: float | None = None
    converge: float | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        if self.expect == "any":
            return True
        return self.observed == self.expect


async def module_state(stub: orchestrator_pb2_grpc.OrchestratorServiceStub, module_id: str,
                       simulated: bool) -> tuple[module_pb2.ModuleInfo, dict | None]:
    """The orchestrator's view of a module, and what the module itself holds (READY only)."""
    info = (await stub.GetModule(orchestrator_pb2.GetModuleRequest(module_id=module_id),
                                 timeout=2)).module
    if info.status.state != module_pb2.MODULE_STATE_READY:
        return info, None
    if simulated:
        client = ControlClient(info.grpc_address)
        try:
            return info, await client.state(deadline=2)
        finally:
            await client.close()
    async with grpc.aio.insecure_channel(info.grpc_address) as channel:
        listed = await entity_pb2_grpc.EntityServiceStub(channel).ListEntities(
            entity_pb2.ListEntitiesRequest(), timeout=2)
    return info, {"entities": [{"id": getattr(e, e.WhichOneof("entity")).id}
                               for e in listed.entities], "entities_only": True}


def differences(model: Model, module_id: str, state: dict) -> list[str]:
    problems = model.diff(module_id, state)
    if state.get("entities_only"):  # a real module: its entities are all we can see
        problems = [p for p in problems if p.startswith("entity")]
    return problems


class ConvergeProbe:
    """Polls one module after a fault until it holds its desired state again (in a new
    instance when the fault must restart it)."""

    def __init__(self, model: Model, address: str, simulated: Callable[[str], bool]) -> None:
        self.model, self.address, self.simulated = model, address, simulated

    async def watch(self, injected: Injected, module_id: str, new_instance: bool,
                    done: Callable[[str, float], None]) -> None:
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            while True:
                try:
                    info, state = await module_state(stub, module_id, self.simulated(module_id))
                    fresh = not new_instance or info.status.instance_id != injected.old_instance
                    if state is not None and fresh and not differences(self.model, module_id,
                                                                       state):
                        done(module_id, time.time() - injected.at)
                        return
                except grpc.RpcError:
                    pass
                await asyncio.sleep(0.1)


@dataclass
class ModuleEvents:
    """The orchestrator's events about each module, in order (from one subscriber)."""

    by_module: dict[str, list[Seen]] = field(default_factory=dict)

    @classmethod
    def of(cls, history: list[Seen]) -> ModuleEvents:
        out = cls()
        for item in history:
            if item.kind == "event" and item.type in (STATE_CHANGED, RESTARTED):
                out.by_module.setdefault(item.module, []).append(item)
        return out

    def between(self, module_id: str, start: float, end: float) -> list[Seen]:
        return [e for e in self.by_module.get(module_id, []) if start <= e.at < end]


def classify(events: list[Seen], final_state: str) -> str:
    if final_state == "ERROR":
        return "error"
    restarted = any(e.type == RESTARTED for e in events) or any(
        e.detail("old_state") == "STARTING" and e.detail("new_state") == "READY"
        for e in events)
    unhealthy = any(e.detail("new_health") == "UNHEALTHY" and e.detail("new_state") == "READY"
                    for e in events if e.type == STATE_CHANGED)
    degraded = any(e.detail("new_health") == "DEGRADED" for e in events
                   if e.type == STATE_CHANGED)
    if restarted:
        return "unhealthy-restarted" if unhealthy else "restarted"
    return "degraded" if degraded else "none"


def timings(events: list[Seen], since: float) -> tuple[float | None, float | None]:
    """(detect, ready) seconds after `since`."""
    detect = ready = None
    for e in events:
        if e.type == RESTARTED and detect is None:
            detect = e.at - since
        if e.type != STATE_CHANGED:
            continue
        good = e.detail("new_state") == "READY" and e.detail("new_health") == "HEALTHY"
        if detect is None and not good:
            detect = e.at - since
        elif detect is not None and good:
            ready = e.at - since
            break
    return detect, ready
