"""Connecting modules by hand, the way the orchestrator does (contract §4.1, rule P-12).

For scripts, tests and benchmarks that talk to modules directly, without an orchestrator:

    sources, recorder = ModuleClient("127.0.0.1:50061"), ModuleClient("127.0.0.1:50063")
    camera = sources.create("rtsp", {"url": "rtsp://127.0.0.1:8554/camera"})
    file = recorder.create("file", {"path": "/tmp/camera.mp4"})
    flow = Flow("f1")
    flow.connect("c1", camera, file)      # TARGET on the recorder first, then SOURCE
    flow.start()                          # sinks first, then upstream
    ...
    flow.stop()                           # sources first

Each module's StartFlow gets the connections it holds, upstream first, so its last
connection is the one nearest the sink (where the flow's state is measured, rule P-11).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import grpc

from mediagrid.v1 import (
    common_pb2,
    entity_pb2,
    entity_pb2_grpc,
    module_pb2,
    module_pb2_grpc,
    pipeline_pb2,
    pipeline_pb2_grpc,
)

VIDEO, AUDIO = common_pb2.MEDIA_TYPE_VIDEO, common_pb2.MEDIA_TYPE_AUDIO
Role = pipeline_pb2.ConnectionRole
TIMEOUT = 15.0


class ModuleClient:
    """A module's services at `address` (host:port), with the calls a script needs."""

    def __init__(self, address: str, *, token: str = "", wait: float = 20.0) -> None:
        self.address = address
        self.channel = grpc.insecure_channel(address)
        self.metadata = (("authorization", f"Bearer {token}"),) if token else None
        self.module = module_pb2_grpc.ModuleServiceStub(self.channel)
        self.entities = entity_pb2_grpc.EntityServiceStub(self.channel)
        self.pipeline = pipeline_pb2_grpc.PipelineServiceStub(self.channel)
        self.id = self.wait_ready(wait)

    def wait_ready(self, within: float) -> str:
        """Waits until the module says READY; returns its module id."""
        deadline = time.monotonic() + within
        while True:
            try:
                reply = self.module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=2)
                if reply.status.state == module_pb2.MODULE_STATE_READY:
                    return reply.module_id
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"module at {self.address} is not READY after {within:g} s")
            time.sleep(0.1)

    def create(self, entity_type: str, config: dict[str, str] | None = None, *,
               media_type: int = VIDEO, entity_id: str = "") -> Entity:
        reply = self.entities.CreateEntity(entity_pb2.CreateEntityRequest(
            entity_type=entity_type, config=config or {}, media_type=media_type,
            entity_id=entity_id), timeout=TIMEOUT, metadata=self.metadata)
        created = getattr(reply.entity, reply.entity.WhichOneof("entity"))
        return Entity(self, created.id, media_type)

    def status(self, entity_id: str) -> common_pb2.EntityStatus:
        return self.entities.GetEntityStatus(entity_pb2.GetEntityStatusRequest(
            entity_id=entity_id), timeout=TIMEOUT, metadata=self.metadata).status

    def flow(self, flow_id: str) -> pipeline_pb2.Flow:
        return self.pipeline.GetFlowStatus(pipeline_pb2.GetFlowStatusRequest(
            flow_id=flow_id), timeout=TIMEOUT, metadata=self.metadata).flow

    def close(self) -> None:
        self.channel.close()


@dataclass(frozen=True)
class Entity:
    module: ModuleClient
    id: str
    media_type: int = VIDEO

    def destroy(self) -> bool:
        return self.module.entities.DestroyEntity(entity_pb2.DestroyEntityRequest(
            entity_id=self.id), timeout=TIMEOUT, metadata=self.module.metadata).destroyed

    def metrics(self) -> dict[str, object]:
        """The entity's metrics from GetEntityStatus, as plain values."""
        values = self.module.status(self.id).metrics
        return {k: getattr(v, v.WhichOneof("value")) for k, v in values.items()}


@dataclass
class _Connection:
    id: str
    source: Entity
    target: Entity


@dataclass
class Flow:
    """One flow over connections that may span several modules."""

    id: str
    connections: list[_Connection] = field(default_factory=list)

    def connect(self, connection_id: str, source: Entity, target: Entity, *,
                quality: common_pb2.QualityProfile | None = None,
                transport: str = "") -> pipeline_pb2.Connection:
        """LOCAL when both are in one module; else TARGET on the target's module (it listens
        and returns the endpoint), then SOURCE on the source's module with that endpoint."""
        request = pipeline_pb2.ConnectEntitiesRequest(
            connection_id=connection_id, source_entity_id=source.id,
            target_entity_id=target.id, media_type=source.media_type,
            transport_protocol=transport, quality=quality,
            source_module_id=source.module.id, target_module_id=target.module.id,
        )
        self.connections.append(_Connection(connection_id, source, target))
        if source.module is target.module:
            request.role = Role.Value("CONNECTION_ROLE_LOCAL")
            return source.module.pipeline.ConnectEntities(
                request, timeout=TIMEOUT, metadata=source.module.metadata).connection
        request.role = Role.Value("CONNECTION_ROLE_TARGET")
        answer = target.module.pipeline.ConnectEntities(
            request, timeout=TIMEOUT, metadata=target.module.metadata).connection
        request.role = Role.Value("CONNECTION_ROLE_SOURCE")
        request.endpoint.CopyFrom(answer.endpoint)
        source.module.pipeline.ConnectEntities(
            request, timeout=TIMEOUT, metadata=source.module.metadata)
        return answer

    def modules(self) -> list[tuple[ModuleClient, list[str]]]:
        """Each module with the flow's connections it holds (upstream first), sinks first."""
        depth: dict[str, int] = {}
        for _ in self.connections:  # longest path from a source, enough passes for a chain
            for c in self.connections:
                depth[c.target.id] = max(depth.get(c.target.id, 0), depth.get(c.source.id, 0) + 1)
        held: dict[int, tuple[ModuleClient, list[str], int]] = {}
        for c in self.connections:
            for end in (c.source, c.target):
                module, ids, deepest = held.get(id(end.module), (end.module, [], -1))
                if c.id not in ids:
                    ids.append(c.id)
                held[id(end.module)] = (module, ids, max(deepest, depth.get(end.id, 0)))
        ordered = sorted(held.values(), key=lambda item: -item[2])
        return [(module, ids) for module, ids, _ in ordered]

    def start(self) -> None:
        for module, ids in self.modules():
            module.pipeline.StartFlow(pipeline_pb2.StartFlowRequest(
                flow_id=self.id, connection_ids=ids), timeout=TIMEOUT, metadata=module.metadata)

    def stop(self) -> None:
        for module, _ in reversed(self.modules()):
            module.pipeline.StopFlow(pipeline_pb2.StopFlowRequest(flow_id=self.id),
                                     timeout=TIMEOUT, metadata=module.metadata)

    def adjust(self, connection_id: str, quality: common_pb2.QualityProfile
               ) -> pipeline_pb2.Connection:
        """AdjustQuality on the module holding the connection's source side."""
        source = next(c.source for c in self.connections if c.id == connection_id)
        reply = source.module.pipeline.AdjustQuality(pipeline_pb2.AdjustQualityRequest(
            flow_id=self.id, connection_id=connection_id, quality=quality),
            timeout=TIMEOUT, metadata=source.module.metadata)
        return reply.connections[0]
