"""ConnectEntities and DisconnectEntities across modules (contract §4.1, rule P-12).

Both entities in one module: one `ConnectEntities` with role LOCAL. In two modules, the target
side listens: `TARGET` to the target's module first, which answers with the endpoint it
listens on, then `SOURCE` with that endpoint to the source's module. If the source side
refuses, the target side is removed again and the source's error is forwarded.
"""

from __future__ import annotations

import dataclasses
import uuid

from mediagrid.reference.orchestrator.broker.calls import Broker, call, remove_side
from mediagrid.reference.orchestrator.desired_state import ConnectionRecord
from mediagrid.reference.orchestrator.errors import CallError, already_exists, not_found
from mediagrid.reference.orchestrator.supervision.supervisor import ModuleSupervisor
from mediagrid.v1 import orchestrator_pb2, pipeline_pb2

LOCAL = pipeline_pb2.CONNECTION_ROLE_LOCAL
SOURCE = pipeline_pb2.CONNECTION_ROLE_SOURCE
TARGET = pipeline_pb2.CONNECTION_ROLE_TARGET


def side_request(c: ConnectionRecord, role: int,
                 endpoint: pipeline_pb2.MediaEndpoint | None = None
                 ) -> pipeline_pb2.ConnectEntitiesRequest:
    request = pipeline_pb2.ConnectEntitiesRequest(
        connection_id=c.connection_id, source_entity_id=c.source_entity,
        target_entity_id=c.target_entity, media_type=c.media_type, role=role,
        transport_protocol=c.transport if role == TARGET else "",
        source_module_id=c.source_module, target_module_id=c.target_module)
    request.quality.CopyFrom(c.quality)
    if endpoint is not None:
        request.endpoint.CopyFrom(endpoint)
    return request


class ConnectionBroker:
    def __init__(self, broker: Broker) -> None:
        self.b = broker

    async def connect(self, request: orchestrator_pb2.OrchestratorServiceConnectEntitiesRequest,
                      deadline: float) -> pipeline_pb2.Connection:
        source = self.b.modules.ready(request.source.module_id, "source.module_id")
        target = self.b.modules.ready(request.target.module_id, "target.module_id")
        record = ConnectionRecord(
            request.connection_id or f"conn-{uuid.uuid4().hex[:12]}",
            source.id, request.source.entity_id, target.id, request.target.entity_id,
            request.media_type, request.quality, request.transport_protocol)
        async with self.b.locks.hold({source.id, target.id}):
            existing = await self.b.store.connection(record.connection_id)
            if existing is not None and not existing.removed and \
                    not existing.same_request(record):
                raise already_exists(
                    f"connection_id {record.connection_id!r} already joins"
                    f" {existing.source_module}/{existing.source_entity} to"
                    f" {existing.target_module}/{existing.target_entity} differently:"
                    " disconnect it first or use a new connection_id")
            connection = await self.establish(record, source, target, deadline)
            record = dataclasses.replace(
                record, endpoint=connection.endpoint if connection.HasField("endpoint") else None)
            await self.b.store.put_connection(record)
        return connection

    async def establish(self, c: ConnectionRecord, source: ModuleSupervisor,
                        target: ModuleSupervisor, deadline: float) -> pipeline_pb2.Connection:
        """Both sides of a connection, target first (§4.1)."""
        if c.local:
            response = await call(source, "pipeline", "ConnectEntities", side_request(c, LOCAL),
                                  deadline)
            return response.connection
        listening = await self.connect_target(c, target, deadline)
        try:
            return await self.connect_source(c, source, listening.endpoint, deadline)
        except CallError:
            await self.disconnect_side(target, c.connection_id, deadline)
            raise

    async def connect_target(self, c: ConnectionRecord, target: ModuleSupervisor,
                             deadline: float) -> pipeline_pb2.Connection:
        response = await call(target, "pipeline", "ConnectEntities", side_request(c, TARGET),
                              deadline)
        return response.connection

    async def connect_source(self, c: ConnectionRecord, source: ModuleSupervisor,
                             endpoint: pipeline_pb2.MediaEndpoint,
                             deadline: float) -> pipeline_pb2.Connection:
        response = await call(source, "pipeline", "ConnectEntities",
                              side_request(c, SOURCE, endpoint), deadline)
        connection = response.connection
        connection.source_module_id, connection.target_module_id = c.source_module, c.target_module
        if not connection.HasField("endpoint"):
            connection.endpoint.CopyFrom(endpoint)
        return connection

    async def disconnect_side(self, module: ModuleSupervisor, connection_id: str,
                              deadline: float) -> bool:
        """Removes one module's side; a module not running, or a new instance that never had
        the side, has nothing to remove (remove_side)."""
        response = await remove_side(module, "DisconnectEntities",
                                     pipeline_pb2.DisconnectEntitiesRequest(
                                         connection_id=connection_id), deadline)
        return response is not None and bool(response.disconnected)

    async def disconnect(self, connection_id: str, deadline: float) -> bool:
        """Both sides, the source first (it stops sending). Idempotent for ids that existed."""
        record = await self.b.store.connection(connection_id)
        if record is None:
            raise not_found(f"connection_id: no connection {connection_id!r} was made through"
                            " this orchestrator")
        async with self.b.locks.hold({record.source_module, record.target_module}):
            record = await self.b.store.connection(connection_id)
            if record is None or record.removed:
                return False
            for module_id in dict.fromkeys((record.source_module, record.target_module)):
                module = self.b.modules.find(module_id)
                if module is not None:
                    await self.disconnect_side(module, connection_id, deadline)
            await self.b.store.remove_connection(connection_id)
        return True
