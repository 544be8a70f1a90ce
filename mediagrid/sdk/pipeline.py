"""Connections and flows inside one module (rules P-1..P-9), generic over entity types."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mediagrid.sdk import limits
from mediagrid.sdk.entity import Endpoint, Entity, EntityState, Link, Role
from mediagrid.sdk.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from mediagrid.sdk.store import Registry
from mediagrid.sdk.types import EntityKind, Health, MediaType
from mediagrid.v1 import common_pb2, event_pb2, pipeline_pb2

if TYPE_CHECKING:
    from mediagrid.sdk.runtime import ModuleRuntime

DEFAULT_TRANSPORT = "mpegts-udp"
STOPPED = pipeline_pb2.FLOW_STATE_STOPPED


@dataclass
class Flow:
    id: str
    name: str
    connection_ids: tuple[str, ...]
    created_at: float
    state: int = pipeline_pb2.FLOW_STATE_INITIALIZING
    health: Health = Health.HEALTHY
    error_message: str = ""
    started_at: float = 0.0
    links: list[Link] = field(default_factory=list)


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class PipelineManager:
    def __init__(self, runtime: ModuleRuntime) -> None:
        self.rt = runtime
        self.links: Registry[Link] = Registry("connection", runtime.status.instance_id)
        self.flows: dict[str, Flow] = {}

    # -- connections ------------------------------------------------------------------------
    async def connect(self, req: pipeline_pb2.ConnectEntitiesRequest) -> Link:
        rt = self.rt
        rt.require_ready()
        limits.check_id("connection_id", req.connection_id)
        role = self._role(req.role)
        if req.media_type not in MediaType._value2member_map_:
            raise InvalidArgument(
                "media_type is required: set MEDIA_TYPE_VIDEO or MEDIA_TYPE_AUDIO"
            )
        media_type = MediaType(req.media_type)
        key = req.SerializeToString(deterministic=True)
        async with rt.lock:
            rt.require_ready()
            existing = self.links.get(req.connection_id)
            if existing is not None:
                if existing.request_key == key:
                    return existing
                raise AlreadyExists(
                    f"connection_id {req.connection_id!r} exists with different arguments:"
                    " disconnect it first or use a new connection_id"
                )
            source = target = None
            if role in (Role.LOCAL, Role.SOURCE):
                source = self._end(req.source_entity_id, "source_entity_id", media_type, "source")
            if role in (Role.LOCAL, Role.TARGET):
                target = self._end(req.target_entity_id, "target_entity_id", media_type, "target")
            if source is not None and source is target:
                raise InvalidArgument("source_entity_id and target_entity_id are the same entity")
            endpoint: Endpoint | None = None
            transport = "local"
            if role is Role.TARGET:
                assert target is not None
                transport = req.transport_protocol or DEFAULT_TRANSPORT
                self._check_transport(target, transport)
                port = free_udp_port(rt.bind_host)
                endpoint = Endpoint(f"udp://{rt.bind_host}:{port}?pkt_size=1316", transport)
            elif role is Role.SOURCE:
                assert source is not None
                if not req.endpoint.url:
                    raise InvalidArgument(
                        "endpoint.url is required for role SOURCE: pass the endpoint the"
                        " target's module returned from its TARGET call"
                    )
                transport = req.endpoint.transport or DEFAULT_TRANSPORT
                self._check_transport(source, transport)
                endpoint = Endpoint(req.endpoint.url, transport, req.endpoint.format)
            link = Link(
                rt, id=req.connection_id, role=role, media_type=media_type, source=source,
                target=target, source_entity_id=req.source_entity_id,
                target_entity_id=req.target_entity_id, endpoint=endpoint,
                quality=common_pb2.QualityProfile(), transport=transport,
                source_module_id=req.source_module_id or (rt.module_id if source else ""),
                target_module_id=req.target_module_id or (rt.module_id if target else ""),
            )
            link.quality.CopyFrom(req.quality)
            link.request_key = key
            for entity in link.entities:
                await entity.connect(link)
            for entity in link.entities:
                entity.links[link.id] = link
            rt.reporter.event(
                event_pb2.EVENT_TYPE_CONNECTION_CREATED,
                f"{req.source_entity_id} -> {req.target_entity_id} ({role.name.lower()})",
                entity_id=link.reporting_entity.id, connection_id=link.id,
            )
            self.links.add(link.id, link)
            return link

    @staticmethod
    def _role(value: int) -> Role:
        if value not in Role._value2member_map_:
            raise InvalidArgument(
                "role is required: CONNECTION_ROLE_LOCAL when both entities are in this module,"
                " TARGET on the target's module (first), SOURCE on the source's module (then)"
            )
        return Role(value)

    def _end(self, entity_id: str, field: str, media_type: MediaType, side: str) -> Entity:
        limits.check_id(field, entity_id)
        entity = self.rt.entities.registry.require(entity_id, field)
        kind = entity.entity_type.kind
        if (side == "source" and kind is EntityKind.SINK) or (
            side == "target" and kind is EntityKind.SOURCE
        ):
            raise FailedPrecondition(
                f"{field}: entity {entity_id!r} is a {kind.name.lower()} and cannot be a"
                f" connection's {side}"
            )
        if entity.media_type is not media_type:
            raise FailedPrecondition(
                f"{field}: entity {entity_id!r} carries {entity.media_type.name}, but the"
                f" connection carries {media_type.name}: connect entities of one media type"
            )
        return entity

    @staticmethod
    def _check_transport(entity: Entity, transport: str) -> None:
        offered = entity.entity_type.protocols
        if offered and transport not in offered:
            raise FailedPrecondition(
                f"entity {entity.id!r} ({entity.entity_type.type}) does not speak transport"
                f" {transport!r}: it speaks {', '.join(offered)}"
            )

    async def disconnect(self, connection_id: str) -> bool:
        self.rt.require_ready()
        limits.check_id("connection_id", connection_id)
        async with self.rt.lock:
            return await self.disconnect_locked(connection_id)

    async def disconnect_locked(self, connection_id: str) -> bool:
        link = self.links.get(connection_id)
        if link is None:
            if self.links.existed(connection_id):
                return False
            self.links.require(connection_id, "connection_id")
        assert link is not None
        if link.state == pipeline_pb2.CONNECTION_STATE_ACTIVE:
            self.link_failed(link, f"connection {connection_id!r} was removed while its flow ran")
            await self._stop_link(link)
        try:
            for entity in link.entities:
                await entity.disconnect(link)
        finally:
            self.links.remove(connection_id)
            link.state = pipeline_pb2.CONNECTION_STATE_CLOSED
            for entity in link.entities:
                entity.links.pop(connection_id, None)
            self.rt.reporter.event(
                event_pb2.EVENT_TYPE_CONNECTION_REMOVED, "connection removed",
                entity_id=link.reporting_entity.id, connection_id=connection_id,
            )
        return True

    # -- flows ------------------------------------------------------------------------------
    async def start_flow(self, flow_id: str, name: str, connection_ids: list[str]) -> Flow:
        rt = self.rt
        rt.require_ready()
        limits.check_id("flow_id", flow_id)
        limits.check_name("name", name)
        if not connection_ids:
            raise InvalidArgument(
                "connection_ids is empty: list the flow's connections this module serves"
            )
        for n, cid in enumerate(connection_ids):
            limits.check_id(f"connection_ids[{n}]", cid)
        async with rt.lock:
            rt.require_ready()
            flow = self.flows.get(flow_id)
            if flow is not None:
                if flow.state == STOPPED:
                    raise FailedPrecondition(
                        f"flow {flow_id!r} was stopped and flow ids are not reused:"
                        " start the connections under a new flow_id"
                    )
                if flow.connection_ids == tuple(connection_ids):
                    return flow
                raise AlreadyExists(f"flow {flow_id!r} runs other connections: use a new flow_id")
            links = [self.links.require(c, f"connection_ids[{n}]")
                     for n, c in enumerate(connection_ids)]
            for link in links:
                if link.flow_id:
                    raise FailedPrecondition(
                        f"connection {link.id!r} already runs in flow {link.flow_id!r}:"
                        " stop that flow first"
                    )
            flow = Flow(flow_id, name or flow_id, tuple(connection_ids), rt.clock(), links=links)
            started: list[Link] = []
            try:
                for link in reversed(links):  # downstream first: listeners before senders
                    link.flow_id = flow_id
                    started.append(link)
                    for entity in link.entities:
                        await entity.start(link)
                    if link.state != pipeline_pb2.CONNECTION_STATE_ERROR:
                        link.state = pipeline_pb2.CONNECTION_STATE_ACTIVE
            except BaseException:
                for link in reversed(started):
                    await self._stop_link(link)
                raise
            self.flows[flow_id] = flow
            flow.started_at = rt.clock()
            failed = [k for k in links if k.state == pipeline_pb2.CONNECTION_STATE_ERROR]
            if failed:
                flow.state, flow.health = pipeline_pb2.FLOW_STATE_ERROR, Health.UNHEALTHY
                flow.error_message = failed[0].error_message
            else:
                flow.state = pipeline_pb2.FLOW_STATE_ACTIVE
            rt.reporter.flow_started(flow_id, connection_ids, f"flow {flow.name} started")
            for link in links:
                for entity in link.entities:
                    self._refresh_entity(entity)
            return flow

    def get_flow(self, flow_id: str) -> Flow:
        limits.check_id("flow_id", flow_id)
        flow = self.flows.get(flow_id)
        if flow is None:
            raise NotFound(f"flow_id: flow {flow_id!r} does not exist in this module instance")
        return flow

    async def stop_flow(self, flow_id: str) -> tuple[Flow, bool]:
        self.rt.require_ready()
        async with self.rt.lock:
            return await self.stop_flow_locked(flow_id)

    async def stop_flow_locked(self, flow_id: str) -> tuple[Flow, bool]:
        flow = self.get_flow(flow_id)
        if flow.state == STOPPED:
            return flow, False
        for link in flow.links:
            if link.flow_id == flow_id:
                await self._stop_link(link)
        flow.state = STOPPED
        self.rt.reporter.event(
            event_pb2.EVENT_TYPE_FLOW_STOPPED, f"flow {flow.name} stopped", flow_id=flow_id
        )
        return flow, True

    async def _stop_link(self, link: Link) -> None:
        try:
            for entity in reversed(link.entities):  # source first
                await entity.stop(link)
        finally:
            await link._cancel_tasks()
            link.flow_id = ""
            if link.state != pipeline_pb2.CONNECTION_STATE_CLOSED:
                link.state = pipeline_pb2.CONNECTION_STATE_STOPPED
            for entity in link.entities:
                self._refresh_entity(entity)

    def _refresh_entity(self, entity: Entity) -> None:
        if entity.state in (EntityState.ERROR, EntityState.DESTROYED):
            return
        active = any(k.state == pipeline_pb2.CONNECTION_STATE_ACTIVE for k in entity.links.values())
        self.rt.entities.set_status(
            entity, state=EntityState.ACTIVE if active else EntityState.CONFIGURED
        )

    async def adjust_quality(
        self, flow_id: str, connection_id: str, quality: common_pb2.QualityProfile
    ) -> list[Link]:
        self.rt.require_ready()
        async with self.rt.lock:
            flow = self.get_flow(flow_id)
            if flow.state == STOPPED:
                raise FailedPrecondition(f"flow {flow_id!r} is stopped: start a flow first")
            links = [k for k in flow.links if not connection_id or k.id == connection_id]
            if not links:
                raise NotFound(f"connection_id: {connection_id!r} is not in flow {flow_id!r}")
            for link in links:
                await (link.source or link.reporting_entity).adjust_quality(link, quality)
                _merge_quality(link.quality, quality)
                self.rt.reporter.event(
                    event_pb2.EVENT_TYPE_QUALITY_CHANGED, "quality changed",
                    entity_id=link.reporting_entity.id, connection_id=link.id, flow_id=flow_id,
                )
            return links

    def link_failed(self, link: Link, message: str) -> None:
        link.state = pipeline_pb2.CONNECTION_STATE_ERROR
        link.health, link.error_message = Health.UNHEALTHY, message
        flow = self.flows.get(link.flow_id)
        if flow is not None and flow.state != STOPPED:
            flow.state, flow.health, flow.error_message = (
                pipeline_pb2.FLOW_STATE_ERROR, Health.UNHEALTHY, message,
            )
        entity_id = link.reporting_entity.id
        if self.rt.reporter.known_entity(entity_id):
            self.rt.reporter.event(
                event_pb2.EVENT_TYPE_ERROR, message, entity_id=entity_id,
                connection_id=link.id, flow_id=link.flow_id,
            )

    async def stop_all(self) -> None:
        for flow in list(self.flows.values()):
            if flow.state != STOPPED:
                await self.stop_flow_locked(flow.id)
        for link in list(self.links.values()):
            await self.disconnect_locked(link.id)


def _merge_quality(into: common_pb2.QualityProfile, new: common_pb2.QualityProfile) -> None:
    if new.resolution.width:
        into.resolution.width = new.resolution.width
    if new.resolution.height:
        into.resolution.height = new.resolution.height
    for name in ("bitrate", "framerate", "video_codec", "audio_codec"):
        if getattr(new, name):
            setattr(into, name, getattr(new, name))
