"""The workload: services that create, configure and destroy entities, connect and
disconnect them, start and stop flows, all through `OrchestratorService`, at a steady rate.

Each service draws its calls from its own seeded random source and works on its own items
(ids `s<N>e<n>`, `s<N>c<n>`, `s<N>f<n>`), so services never race each other. Every call
is recorded as Jepsen records operations: ok, fail (the orchestrator refused it: nothing
happened) or info (unknown: the item becomes uncertain until `resolve()` repeats the call).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from mediagrid.manifest import load_manifest
from mediagrid.simulator.chaos.model import ConnectionItem, EntityItem, FlowItem, Key, Model
from mediagrid.v1 import entity_pb2, orchestrator_pb2, orchestrator_pb2_grpc

op = orchestrator_pb2
CALL_DEADLINE = 5.0
# Refusals that mean "nothing happened"; anything else leaves the outcome unknown.
DEFINITE = frozenset({
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
})
SOURCES, TARGETS = {"source", "converter", "protocol"}, {"sink", "converter", "protocol"}
MEDIA = {"video": 2, "audio": 1}  # common_pb2.MEDIA_TYPE_*


@dataclass(frozen=True)
class TypeInfo:
    type: str
    kind: str
    media: tuple[int, ...]
    config_keys: tuple[str, ...]


def catalogue(folders: Mapping[str, Path]) -> dict[str, list[TypeInfo]]:
    """The entity types each module offers, read from its module.yaml."""
    out: dict[str, list[TypeInfo]] = {}
    for module_id, folder in folders.items():
        manifest = load_manifest(folder)
        out[module_id] = [TypeInfo(
            t.type, t.kind, tuple(MEDIA[m] for m in t.media_types),
            tuple(k for k, v in ((t.config or {}).get("properties") or {}).items()
                  if v.get("type") == "string" and "pattern" not in v
                  and not v.get("writeOnly") and "enum" not in v))
            for t in manifest.entity_types]
    return out


@dataclass
class Record:
    at: float
    service: int
    call: str
    item: str
    outcome: str  # ok | fail | info
    code: str = ""


@dataclass
class Call:
    name: str
    keys: set[Key]
    invoke: Callable[[orchestrator_pb2_grpc.OrchestratorServiceStub], Awaitable[Any]]
    apply: Callable[[Model], None]
    item: str


@dataclass
class WorkloadStats:
    ok: int = 0
    fail: int = 0
    info: int = 0
    resolved: int = 0
    unresolved: int = 0
    by_call: dict[str, dict[str, int]] = field(default_factory=dict)


class Workload:
    def __init__(self, model: Model, types: Mapping[str, list[TypeInfo]], *, seed: int,
                 services: int, rate: float, max_entities: int, mix: Mapping[str, float],
                 modules: list[str]) -> None:
        self.model, self.types = model, types
        self.seed, self.services, self.rate = seed, services, rate
        self.max_entities, self.mix = max_entities, dict(mix)
        self.modules = [m for m in modules if types.get(m)]
        self.records: list[Record] = []
        self.stats = WorkloadStats()
        self.pending: dict[str, Call] = {}  # item -> the call whose outcome is unknown
        self._counters = [0] * services

    async def run(self, address: str, stop: asyncio.Event) -> None:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            async with asyncio.TaskGroup() as tasks:
                for index in range(self.services):
                    tasks.create_task(self._service(index, stub, stop))

    async def _service(self, index: int, stub: orchestrator_pb2_grpc.OrchestratorServiceStub,
                       stop: asyncio.Event) -> None:
        rng = self.source(index)
        while not stop.is_set():
            call = self._choose(index, rng)
            if call is not None:
                await self.execute(index, call, stub)
            try:
                await asyncio.wait_for(stop.wait(), rng.expovariate(self.rate))
            except TimeoutError:
                pass

    def source(self, index: int) -> random.Random:
        """Service `index`'s random source: the same seed draws the same calls."""
        return random.Random(f"{self.seed}/service/{index}")

    async def execute(self, service: int, call: Call,
                      stub: orchestrator_pb2_grpc.OrchestratorServiceStub) -> str:
        self.model.busy |= call.keys
        code = ""
        try:
            await call.invoke(stub)
            outcome = "ok"
        except grpc.RpcError as exc:
            code = exc.code().name
            outcome = "fail" if exc.code() in DEFINITE or _never_sent(exc) else "info"
        finally:
            self.model.busy -= call.keys
        if outcome == "ok":
            call.apply(self.model)
        elif outcome == "info":
            self.model.uncertain |= call.keys
            self.pending[call.item] = call
        setattr(self.stats, outcome, getattr(self.stats, outcome) + 1)
        counts = self.stats.by_call.setdefault(call.name, {"ok": 0, "fail": 0, "info": 0})
        counts[outcome] += 1
        self.records.append(Record(time.time(), service, call.name, call.item, outcome, code))
        return outcome

    async def resolve(self, address: str, within: float) -> None:
        """Repeats every call whose outcome is unknown until the orchestrator answers it for
        certain (they are idempotent), so the model is exact again."""
        deadline = time.monotonic() + within
        async with grpc.aio.insecure_channel(address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            while self.pending and time.monotonic() < deadline:
                for item, call in list(self.pending.items()):
                    self.model.uncertain -= call.keys
                    outcome = await self.execute(-1, call, stub)
                    if outcome == "info":
                        continue
                    self.pending.pop(item, None)
                    self.stats.resolved += 1
                if self.pending:
                    await asyncio.sleep(0.5)
        self.stats.unresolved = len(self.pending)

    # -- choosing the next call -----------------------------------------------------------

    def _new_id(self, index: int, kind: str) -> str:
        self._counters[index] += 1
        return f"s{index}{kind}{self._counters[index]}"

    def _choose(self, index: int, rng: random.Random) -> Call | None:
        names = list(self.mix)
        weights = [self.mix[n] for n in names]
        for _ in range(4):  # a few tries: the drawn call may have nothing to act on
            name = rng.choices(names, weights)[0]
            call = getattr(self, f"_{name}")(index, rng)
            if call is not None:
                return call
        return None

    def _mine(self, index: int) -> list[EntityItem]:
        return [e for e in self.model.entities.values() if e.id.startswith(f"s{index}e")
                and self.model.settled(e.key)]

    def _create(self, index: int, rng: random.Random) -> Call | None:
        owned = [e for e in self.model.entities.values() if e.id.startswith(f"s{index}e")]
        if len(owned) >= self.max_entities or not self.modules:
            return None
        module = rng.choice(self.modules)
        kind = rng.choice(self.types[module])
        entity_id = self._new_id(index, "e")
        media = rng.choice(kind.media)
        config = {k: f"{entity_id} at {rng.randint(1, 99)}" for k in kind.config_keys[:1]}
        item = EntityItem(module, entity_id, kind.type, media, f"{entity_id}-{self.seed}",
                          dict(config))
        request = op.OrchestratorServiceCreateEntityRequest(
            module_id=module, request=entity_pb2.CreateEntityRequest(
                entity_type=kind.type, entity_id=entity_id, request_id=item.request_id,
                media_type=media, config=config))

        def apply(model: Model) -> None:
            model.entities[(module, entity_id)] = item

        return Call("create", {item.key}, lambda s: s.CreateEntity(
            request, timeout=CALL_DEADLINE), apply, f"{module}/{entity_id}")

    def _configure(self, index: int, rng: random.Random) -> Call | None:
        choices = [e for e in self._mine(index) if self._keys(e)]
        if not choices:
            return None
        entity = rng.choice(choices)
        config = {self._keys(entity)[0]: f"moved {rng.randint(1, 999)}"}
        request = op.OrchestratorServiceConfigureEntityRequest(
            module_id=entity.module, request=entity_pb2.ConfigureEntityRequest(
                entity_id=entity.id, config=config))

        def apply(model: Model) -> None:
            entity.config.update(config)

        return Call("configure", {entity.key}, lambda s: s.ConfigureEntity(
            request, timeout=CALL_DEADLINE), apply, f"{entity.module}/{entity.id}")

    def _keys(self, entity: EntityItem) -> tuple[str, ...]:
        return next((t.config_keys for t in self.types[entity.module]
                     if t.type == entity.type), ())

    def _destroy(self, index: int, rng: random.Random) -> Call | None:
        free = [e for e in self._mine(index)
                if all(self.model.settled(c.key) and not self.model.in_flows(c.id)
                       for c in self.model.connections_of(e.module, e.id))]
        if not free:
            return None
        entity = rng.choice(free)
        links = self.model.connections_of(entity.module, entity.id)
        request = op.OrchestratorServiceDestroyEntityRequest(
            module_id=entity.module, request=entity_pb2.DestroyEntityRequest(
                entity_id=entity.id))

        def apply(model: Model) -> None:
            model.entities.pop((entity.module, entity.id), None)
            for link in links:
                model.connections.pop(link.id, None)

        return Call("destroy", {entity.key, *(c.key for c in links)}, lambda s: s.DestroyEntity(
            request, timeout=CALL_DEADLINE), apply, f"{entity.module}/{entity.id}")

    def _kind(self, entity: EntityItem) -> str:
        return next(t.kind for t in self.types[entity.module] if t.type == entity.type)

    def _connect(self, index: int, rng: random.Random) -> Call | None:
        mine = self._mine(index)
        linked = {(c.source, c.target) for c in self.model.connections.values()}
        pairs = [(s, t) for s in mine for t in mine if s is not t and s.media == t.media
                 and self._kind(s) in SOURCES and self._kind(t) in TARGETS
                 and ((s.module, s.id), (t.module, t.id)) not in linked]
        if not pairs:
            return None
        source, target = rng.choice(pairs)
        item = ConnectionItem(self._new_id(index, "c"), (source.module, source.id),
                              (target.module, target.id), source.media)
        request = op.OrchestratorServiceConnectEntitiesRequest(
            connection_id=item.id, media_type=item.media,
            source=op.EntityRef(module_id=source.module, entity_id=source.id),
            target=op.EntityRef(module_id=target.module, entity_id=target.id))

        def apply(model: Model) -> None:
            model.connections[item.id] = item

        return Call("connect", {item.key, source.key, target.key}, lambda s: s.ConnectEntities(
            request, timeout=CALL_DEADLINE), apply, item.id)

    def _free_connections(self, index: int) -> list[ConnectionItem]:
        return [c for c in self.model.connections.values() if c.id.startswith(f"s{index}c")
                and self.model.settled(c.key) and not self.model.in_flows(c.id)]

    def _disconnect(self, index: int, rng: random.Random) -> Call | None:
        free = self._free_connections(index)
        if not free:
            return None
        item = rng.choice(free)
        request = op.OrchestratorServiceDisconnectEntitiesRequest(connection_id=item.id)

        def apply(model: Model) -> None:
            model.connections.pop(item.id, None)

        return Call("disconnect", {item.key}, lambda s: s.DisconnectEntities(
            request, timeout=CALL_DEADLINE), apply, item.id)

    def _start_flow(self, index: int, rng: random.Random) -> Call | None:
        free = self._free_connections(index)
        if not free:
            return None
        link = rng.choice(free)
        flow = FlowItem(self._new_id(index, "f"), [link.id])
        request = op.OrchestratorServiceStartFlowRequest(flow_id=flow.id,
                                                         connection_ids=flow.connections)

        def apply(model: Model) -> None:
            model.flows[flow.id] = flow

        return Call("start_flow", {flow.key, link.key}, lambda s: s.StartFlow(
            request, timeout=CALL_DEADLINE), apply, flow.id)

    def _stop_flow(self, index: int, rng: random.Random) -> Call | None:
        running = [f for f in self.model.flows.values() if f.id.startswith(f"s{index}f")
                   and f.running and self.model.settled(f.key)]
        if not running:
            return None
        flow = rng.choice(running)
        request = op.OrchestratorServiceStopFlowRequest(flow_id=flow.id)

        def apply(model: Model) -> None:
            flow.running = False

        return Call("stop_flow", {flow.key}, lambda s: s.StopFlow(
            request, timeout=CALL_DEADLINE), apply, flow.id)


def _never_sent(exc: grpc.RpcError) -> bool:
    """UNAVAILABLE before the call left this process (nobody listened): nothing happened."""
    details = (exc.details() or "").lower()
    return exc.code() == grpc.StatusCode.UNAVAILABLE and (
        "failed to connect" in details or "connection refused" in details)
