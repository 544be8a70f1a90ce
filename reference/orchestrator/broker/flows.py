"""Flows across modules: StartFlow from the sinks upstream, StopFlow from the sources
downstream (rule P-12), GetFlowStatus merged from every module, AdjustQuality.

Each module runs its part of a flow under a module-level flow id, normally the flow's own id.
A module that survived while its peer restarted must re-point a connection; its part is then
started again under `<flow id>--<generation>` (a module never reuses a stopped flow id, P-8).
`FlowRecord.parts` keeps which id each module runs.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping

from mediagrid.reference.orchestrator.broker.calls import Broker, call, remove_side
from mediagrid.reference.orchestrator.desired_state import ConnectionRecord, FlowRecord
from mediagrid.reference.orchestrator.errors import (
    CallError,
    already_exists,
    failed_precondition,
    invalid,
    not_found,
)
from mediagrid.reference.orchestrator.modules import state_name
from mediagrid.sdk.flows import merge_quality  # P-9: fields left empty keep their value
from mediagrid.v1 import common_pb2, orchestrator_pb2, pipeline_pb2

STOPPED = pipeline_pb2.FLOW_STATE_STOPPED
ERROR = pipeline_pb2.FLOW_STATE_ERROR
INITIALIZING = pipeline_pb2.FLOW_STATE_INITIALIZING
ACTIVE = pipeline_pb2.FLOW_STATE_ACTIVE


def downstream_first(connections: Iterable[ConnectionRecord]) -> list[str]:
    """The flow's module ids from the sinks upstream (rule P-12): by the furthest-downstream
    place each takes in the flow (the target of the last connection first)."""
    place: dict[str, int] = {}
    for n, c in enumerate(connections):
        place[c.source_module] = max(place.get(c.source_module, -1), 2 * n)
        place[c.target_module] = max(place.get(c.target_module, -1), 2 * n + 1)
    return sorted(place, key=lambda m: (-place[m], m))


def part_of(connections: Iterable[ConnectionRecord], module_id: str) -> list[str]:
    """The flow's connections a module takes part in, source to sink."""
    return [c.connection_id for c in connections if c.touches(module_id)]


def part_id(flow_id: str, generation: int) -> str:
    return flow_id if generation <= 1 else f"{flow_id[:118]}--{generation}"


class FlowBroker:
    def __init__(self, broker: Broker) -> None:
        self.b = broker

    async def connections_of(self, ids: Iterable[str]) -> list[ConnectionRecord]:
        found = []
        for n, cid in enumerate(ids):
            record = await self.b.store.connection(cid)
            if record is None or record.removed:
                raise not_found(f"connection_ids[{n}]: no connection {cid!r}: make it with"
                                " ConnectEntities first")
            found.append(record)
        return found

    async def start(self, request: orchestrator_pb2.OrchestratorServiceStartFlowRequest,
                    deadline: float) -> pipeline_pb2.Flow:
        flow_id = request.flow_id or f"flow-{uuid.uuid4().hex[:12]}"
        if not request.connection_ids:
            raise invalid("connection_ids is empty: list the flow's connections, source to sink")
        connections = await self.connections_of(request.connection_ids)
        order = downstream_first(connections)
        modules = [self.b.modules.ready(m) for m in order]
        async with self.b.locks.hold(order):
            existing = await self.b.store.flow(flow_id)
            if existing is not None:
                if existing.stopped:
                    raise failed_precondition(
                        f"flow {flow_id!r} was stopped and flow ids are not reused: start the"
                        " connections under a new flow_id")
                if existing.connection_ids != tuple(request.connection_ids):
                    raise already_exists(f"flow {flow_id!r} runs other connections: use a new"
                                         " flow_id")
                return await self._status(existing, deadline)
            record = FlowRecord(flow_id, request.name, tuple(request.connection_ids),
                                {m: flow_id for m in order})
            parts = await self.start_parts(record, connections, [m.id for m in modules], deadline)
            await self.b.store.put_flow(record)
        return merge(record, connections, parts)

    async def start_parts(self, record: FlowRecord, connections: list[ConnectionRecord],
                          module_ids: list[str], deadline: float) -> dict[str, pipeline_pb2.Flow]:
        """StartFlow on each module (in the order given: sinks first); if one refuses, the
        parts already started are stopped again and its error is forwarded."""
        started: dict[str, pipeline_pb2.Flow] = {}
        try:
            for module_id in module_ids:
                module = self.b.modules.get(module_id)
                request = pipeline_pb2.StartFlowRequest(
                    flow_id=record.parts[module_id], name=record.name,
                    connection_ids=part_of(connections, module_id))
                started[module_id] = (await call(module, "pipeline", "StartFlow", request,
                                                 deadline)).flow
        except CallError:
            for module_id in reversed(list(started)):
                await self.stop_part(module_id, record.parts[module_id], deadline)
            raise
        return started

    async def stop_part(self, module_id: str, part: str, deadline: float) -> None:
        module = self.b.modules.find(module_id)
        if module is None:
            return
        await remove_side(module, "StopFlow", pipeline_pb2.StopFlowRequest(flow_id=part),
                          deadline)

    async def stop(self, flow_id: str, deadline: float) -> tuple[pipeline_pb2.Flow, bool]:
        record = await self._record(flow_id)
        async with self.b.locks.hold(record.parts):
            record = await self._record(flow_id)
            connections = [c for c in [await self.b.store.connection(i)
                                       for i in record.connection_ids] if c is not None]
            if not record.stopped:
                for module_id in reversed(downstream_first(connections)):  # sources first
                    if module_id in record.parts:
                        await self.stop_part(module_id, record.parts[module_id], deadline)
                record = dataclasses.replace(record, stopped=True)
                await self.b.store.put_flow(record)
                return merge(record, connections, {}), True
        return merge(record, connections, {}), False

    async def status(self, flow_id: str, deadline: float) -> pipeline_pb2.Flow:
        return await self._status(await self._record(flow_id), deadline)

    async def _status(self, record: FlowRecord, deadline: float) -> pipeline_pb2.Flow:
        connections = [c for c in [await self.b.store.connection(i)
                                   for i in record.connection_ids] if c is not None]
        parts: dict[str, pipeline_pb2.Flow | str] = {}
        if not record.stopped:
            for module_id, part in record.parts.items():
                module = self.b.modules.find(module_id)
                if module is None:
                    parts[module_id] = f"module {module_id!r} is not known any more"
                    continue
                try:
                    parts[module_id] = (await call(module, "pipeline", "GetFlowStatus",
                                                   pipeline_pb2.GetFlowStatusRequest(
                                                       flow_id=part), deadline)).flow
                except CallError as exc:
                    about = f"module {module_id!r} is {state_name(module.view.state)}"
                    parts[module_id] = exc.message if exc.message.startswith(about) else \
                        f"{about}: {exc.message}"
        return merge(record, connections, parts)

    async def adjust(self, request: pipeline_pb2.AdjustQualityRequest,
                     deadline: float) -> list[pipeline_pb2.Connection]:
        """Sent to the module that encodes each connection: its source's."""
        record = await self._record(request.flow_id, "request.flow_id")
        if record.stopped:
            raise failed_precondition(f"flow {record.flow_id!r} is stopped: start a flow first")
        ids = [request.connection_id] if request.connection_id else list(record.connection_ids)
        if request.connection_id not in ("", *record.connection_ids):
            raise not_found(f"request.connection_id: {request.connection_id!r} is not in flow"
                            f" {record.flow_id!r}")
        connections = await self.connections_of(ids)
        changed: list[pipeline_pb2.Connection] = []
        async with self.b.locks.hold(c.source_module for c in connections):
            for c in connections:
                module = self.b.modules.ready(c.source_module)
                response = await call(module, "pipeline", "AdjustQuality",
                                      pipeline_pb2.AdjustQualityRequest(
                                          flow_id=record.parts.get(c.source_module,
                                                                   record.flow_id),
                                          connection_id=c.connection_id,
                                          quality=request.quality), deadline)
                changed.extend(response.connections)
                quality = common_pb2.QualityProfile()
                quality.CopyFrom(c.quality)
                merge_quality(quality, request.quality)
                await self.b.store.set_quality(c.connection_id, quality)
        return changed

    async def _record(self, flow_id: str, field_name: str = "flow_id") -> FlowRecord:
        record = await self.b.store.flow(flow_id)
        if record is None:
            raise not_found(f"{field_name}: no flow {flow_id!r} was started through this"
                            " orchestrator")
        return record


def merge(record: FlowRecord, connections: list[ConnectionRecord],
          parts: Mapping[str, pipeline_pb2.Flow | str]) -> pipeline_pb2.Flow:
    """One flow from its parts: connections as their target's module measures them, the
    worst state of any part, metrics of the last connection, sums of the rest."""
    flow = pipeline_pb2.Flow(id=record.flow_id, name=record.name)
    seen: dict[str, pipeline_pb2.Connection] = {}
    ordered = [p for m, p in parts.items() if isinstance(p, pipeline_pb2.Flow)]
    for c in connections:
        for module_id in (c.target_module, c.source_module):  # the target measures arrival
            part = parts.get(module_id)
            if isinstance(part, pipeline_pb2.Flow) and c.connection_id not in seen:
                seen.update({k.id: k for k in part.connections if k.id == c.connection_id})
        connection = seen.get(c.connection_id) or pipeline_pb2.Connection(
            id=c.connection_id, source_entity_id=c.source_entity,
            target_entity_id=c.target_entity, media_type=c.media_type)
        connection.source_module_id, connection.target_module_id = c.source_module, c.target_module
        flow.connections.append(connection)
    problems = [p for p in parts.values() if isinstance(p, str)]
    states = [p.status for p in ordered]
    status = flow.status
    if record.stopped:
        status.state, status.health = STOPPED, common_pb2.HEALTH_STATUS_HEALTHY
    elif problems or any(s.state == ERROR for s in states):
        status.state, status.health = ERROR, common_pb2.HEALTH_STATUS_UNHEALTHY
        status.error_message = "; ".join(problems + [s.error_message for s in states
                                                     if s.state == ERROR and s.error_message])
    elif any(s.state == INITIALIZING for s in states) or not states:
        status.state, status.health = INITIALIZING, common_pb2.HEALTH_STATUS_HEALTHY
    else:
        status.state, status.health = ACTIVE, common_pb2.HEALTH_STATUS_HEALTHY
    status.bandwidth_usage = sum(c.metrics.bitrate_bps for c in flow.connections)
    last = flow.connections[-1] if flow.connections else None
    status.latency_ms = last.metrics.latency_ms if last is not None and ordered else -1
    if last is not None:
        flow.metrics.fps, flow.metrics.frames = last.metrics.fps, last.metrics.frames
    flow.metrics.dropped_frames = sum(p.metrics.dropped_frames for p in ordered)
    flow.metrics.restarts = sum(p.metrics.restarts for p in ordered)
    flow.metrics.bytes_written = sum(p.metrics.bytes_written for p in ordered)
    created = [p.created_at for p in ordered if p.HasField("created_at")]
    started = [p.started_at for p in ordered if p.HasField("started_at")]
    if created:
        flow.created_at.CopyFrom(min(created, key=lambda t: t.ToNanoseconds()))
    if started:
        flow.started_at.CopyFrom(min(started, key=lambda t: t.ToNanoseconds()))
    return flow
