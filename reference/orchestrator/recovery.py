"""Re-creating a module's desired state in a new instance of it (rule H-15).

Runs when a module answers READY after any (re)start, also the first start after an
orchestrator restart, and before the module is reported READY to subscribers:

1. its entities, in creation order, with the same ids, types, names and configs;
2. its connections, in creation order, with the same ids: LOCAL ones again; where it is the
   target it listens again (a new endpoint) and the surviving source's module is re-pointed
   to it (its side removed and made again with the new endpoint); where it is the source it
   sends to the endpoint the target's module still listens on;
3. its flows, sinks first, with the same ids; a surviving module whose part had to stop for a
   re-pointed connection starts that part again under the flow's next generation id.

It holds the locks of the module and of every peer, so no brokered call interleaves. A peer
counts as running once its own re-creation is done (`recovered_instance`). Something the new
instance refuses (its config schema changed, say) is reported as a WARNING event and
skipped; the module not answering at all fails the start (RecoveryFailed).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable

import grpc

from mediagrid.reference.orchestrator.broker.calls import Broker, call
from mediagrid.reference.orchestrator.broker.connections import (
    LOCAL,
    ConnectionBroker,
    side_request,
)
from mediagrid.reference.orchestrator.broker.flows import FlowBroker, downstream_first, part_id
from mediagrid.reference.orchestrator.desired_state import ConnectionRecord, EntityRecord
from mediagrid.reference.orchestrator.errors import CallError
from mediagrid.reference.orchestrator.supervision.supervisor import ModuleSupervisor, RecoveryFailed
from mediagrid.v1 import entity_pb2

log = logging.getLogger("mediagrid.orchestrator")

GONE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED)
Warn = Callable[[str, str], Awaitable[None]]  # (module id, message)


class Recovery:
    def __init__(self, broker: Broker, warn: Warn) -> None:
        self.b = broker
        self.connections = ConnectionBroker(broker)
        self.flows = FlowBroker(broker)
        self.warn = warn

    def running(self, module_id: str) -> ModuleSupervisor | None:
        """A peer whose instance holds its desired state already."""
        peer = self.b.modules.find(module_id)
        if peer is None or peer.instance is None or not peer.instance.is_open:
            return None
        return peer if peer.recovered_instance == peer.view.instance_id else None

    async def recover(self, module: ModuleSupervisor) -> None:
        store = self.b.store
        peers = {m for c in await store.connections(module.id)
                 for m in (c.source_module, c.target_module)}
        async with self.b.locks.hold({module.id, *peers}):
            for entity in await store.entities(module.id):
                await self._guard(module, f"entity {entity.entity_id!r}", self._entity(module,
                                                                                      entity))
            paused: set[tuple[str, str]] = set()  # (peer module, flow id) stopped to re-point
            for connection in await store.connections(module.id):
                await self._guard(module, f"connection {connection.connection_id!r}",
                                  self._connection(module, connection, paused))
            for flow in await store.flows():
                if module.id in flow.parts or any(p[1] == flow.flow_id for p in paused):
                    await self._guard(module, f"flow {flow.flow_id!r}",
                                      self._flow(module, flow.flow_id, paused))
            module.recovered_instance = module.view.instance_id

    async def _guard(self, module: ModuleSupervisor, what: str,
                     step: Awaitable[None]) -> None:
        """Runs one step: the new instance not answering ends the recovery; any other refusal
        is reported and the step skipped."""
        try:
            await step
        except CallError as exc:
            if exc.code in GONE and isinstance(exc, _OwnCallError):
                raise RecoveryFailed(f"{what}: {exc.message}") from None
            await self.warn(module.id, f"could not re-create {what} in module {module.id!r}:"
                                       f" {exc.code.name}: {exc.message}")

    async def _entity(self, module: ModuleSupervisor, e: EntityRecord) -> None:
        request = entity_pb2.CreateEntityRequest(
            request_id=e.request_id, entity_type=e.entity_type, name=e.name, config=e.config,
            media_type=e.media_type, entity_id=e.entity_id)
        await _own(module, call(module, "entities", "CreateEntity", request,
                                self.b.call_timeout))

    async def _connection(self, module: ModuleSupervisor, c: ConnectionRecord,
                          paused: set[tuple[str, str]]) -> None:
        deadline = self.b.call_timeout
        if c.local:
            await _own(module, call(module, "pipeline", "ConnectEntities",
                                    side_request(c, LOCAL), deadline))
        elif c.target_module == module.id:
            listening = await _own(module, self.connections.connect_target(c, module, deadline))
            await self.b.store.set_endpoint(c.connection_id, listening.endpoint)
            peer = self.running(c.source_module)
            if peer is not None:
                await self._repoint(peer, dataclasses.replace(c, endpoint=listening.endpoint),
                                    paused)
        elif c.endpoint is not None:
            await _own(module, self.connections.connect_source(c, module, c.endpoint, deadline))
        else:
            await self.warn(module.id, f"connection {c.connection_id!r} has no endpoint yet:"
                                       f" it is made when module {c.target_module!r} is READY")

    async def _repoint(self, peer: ModuleSupervisor, c: ConnectionRecord,
                       paused: set[tuple[str, str]]) -> None:
        """The surviving source's module sends to the target's new endpoint. A connection
        under a running flow cannot change, so that flow's part there stops first."""
        deadline = self.b.call_timeout
        for flow in await self.b.store.flows():
            if c.connection_id in flow.connection_ids and peer.id in flow.parts and \
                    (peer.id, flow.flow_id) not in paused:
                await self.flows.stop_part(peer.id, flow.parts[peer.id], deadline)
                paused.add((peer.id, flow.flow_id))
        await self.connections.disconnect_side(peer, c.connection_id, deadline)
        assert c.endpoint is not None
        await self.connections.connect_source(c, peer, c.endpoint, deadline)

    async def _flow(self, module: ModuleSupervisor, flow_id: str,
                    paused: set[tuple[str, str]]) -> None:
        flow = await self.b.store.flow(flow_id)
        if flow is None or flow.stopped:
            return
        connections = [await self.b.store.connection(i) for i in flow.connection_ids]
        live = [c for c in connections if c is not None and not c.removed]
        if len(live) != len(connections):
            await self.warn(module.id, f"flow {flow_id!r} is not started again: one of its"
                                       " connections was removed")
            return
        generation = flow.generation + 1
        parts = dict(flow.parts)
        restart = []
        for module_id in downstream_first(live):
            if module_id == module.id:
                parts[module_id] = flow.flow_id  # a new instance: the flow's own id
            elif (module_id, flow_id) in paused and self.running(module_id) is not None:
                parts[module_id] = part_id(flow.flow_id, generation)
            else:
                continue
            restart.append(module_id)
        flow = dataclasses.replace(flow, parts=parts, generation=generation)
        await self.flows.start_parts(flow, live, restart, self.b.call_timeout)
        await self.b.store.put_flow(flow)
        paused.difference_update({(m, flow_id) for m in restart})


class _OwnCallError(CallError):
    """A refusal by the module being re-created itself (not a peer)."""


async def _own(module: ModuleSupervisor, step: Awaitable[object]) -> object:
    try:
        return await step
    except CallError as exc:
        raise _OwnCallError(exc.code, exc.message) from None
