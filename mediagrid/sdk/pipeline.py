"""Connections inside one module (rules P-1..P-7, P-14), generic over entity types.

Flows over these connections live in `mediagrid.sdk.flows`.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from mediagrid.sdk import limits
from mediagrid.sdk.entity import Endpoint, Entity, Link, Role
from mediagrid.sdk.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from mediagrid.sdk.store import Registry
from mediagrid.sdk.types import EntityKind, MediaType
from mediagrid.v1 import common_pb2, event_pb2, pipeline_pb2

if TYPE_CHECKING:
    from mediagrid.sdk.runtime import ModuleRuntime

DEFAULT_TRANSPORT = "mpegts-udp"

# The URL a source sends to, per transport (contract §4.1); {host} and {port} are the target's.
ENDPOINT_URLS = {
    "mpegts-udp": ("udp", "udp://{host}:{port}?pkt_size=1316"),
    "mpegts-tcp": ("tcp", "tcp://{host}:{port}"),
    "srt": ("udp", "srt://{host}:{port}?mode=caller&latency=120000&transtype=live"),
}


def target_endpoint(transport: str, host: str) -> Endpoint:
    """A free port on `host` for `transport`, as the URL the source sends to (IPv6 bracketed).
    An unknown transport is INVALID_ARGUMENT naming the known ones."""
    if transport not in ENDPOINT_URLS:
        raise InvalidArgument(
            f"transport_protocol {transport!r} is not a transport: use one of"
            f" {', '.join(ENDPOINT_URLS)} (or leave it empty for {DEFAULT_TRANSPORT})"
        )
    kind, template = ENDPOINT_URLS[transport]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port = sock.getsockname()[1]
    url_host = f"[{host}]" if family == socket.AF_INET6 else host
    return Endpoint(template.format(host=url_host, port=port), transport)


class PipelineManager:
    def __init__(self, runtime: ModuleRuntime) -> None:
        self.rt = runtime
        self.links: Registry[Link] = Registry("connection", runtime.status.instance_id)

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
        async with rt.mutation():
            existing = self.links.get(req.connection_id)
            if existing is not None:
                if existing.request_key == key:
                    return existing
                raise AlreadyExists(
                    f"connection_id {req.connection_id!r} exists with different arguments:"
                    " disconnect it first or use a new connection_id"
                )
            link = self._new_link(req, role, media_type)
            link.request_key = key
            connected: list[Entity] = []
            try:
                for entity in link.entities:
                    await entity.connect(link)
                    connected.append(entity)
            except BaseException:
                for entity in reversed(connected):  # undo the ends that did connect
                    await entity.disconnect(link)
                await link._cancel_tasks()
                raise
            for entity in link.entities:
                entity.links[link.id] = link
            rt.reporter.event(
                event_pb2.EVENT_TYPE_CONNECTION_CREATED,
                f"{req.source_entity_id} -> {req.target_entity_id} ({role.name.lower()})",
                entity_id=link.reporting_entity.id, connection_id=link.id,
            )
            self.links.add(link.id, link)
            return link

    def _new_link(
        self, req: pipeline_pb2.ConnectEntitiesRequest, role: Role, media_type: MediaType
    ) -> Link:
        """Checks both ends (P-1..P-4) and builds the link with its endpoint."""
        rt = self.rt
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
            endpoint = target_endpoint(transport, rt.bind_host)  # unknown: INVALID_ARGUMENT
            _check_transport(target, transport)
        elif role is Role.SOURCE:
            assert source is not None
            if not req.endpoint.url:
                raise InvalidArgument(
                    "endpoint.url is required for role SOURCE: pass the endpoint the"
                    " target's module returned from its TARGET call"
                )
            transport = req.endpoint.transport or DEFAULT_TRANSPORT
            _check_transport(source, transport)
            endpoint = Endpoint(req.endpoint.url, transport, req.endpoint.format)
        if target is not None:
            _check_codec(target, req.quality, media_type, source)
        link = Link(
            rt, id=req.connection_id, role=role, media_type=media_type, source=source,
            target=target, source_entity_id=req.source_entity_id,
            target_entity_id=req.target_entity_id, endpoint=endpoint,
            quality=common_pb2.QualityProfile(), transport=transport,
            source_module_id=req.source_module_id or (rt.module_id if source else ""),
            target_module_id=req.target_module_id or (rt.module_id if target else ""),
        )
        link.quality.CopyFrom(req.quality)
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

    async def disconnect(self, connection_id: str) -> bool:
        self.rt.require_ready()
        limits.check_id("connection_id", connection_id)
        async with self.rt.mutation():
            return await self.disconnect_locked(connection_id)

    async def disconnect_locked(self, connection_id: str) -> bool:
        link = self.links.removable(connection_id, "connection_id")
        if link is None:
            return False
        if link.flow_id:  # a running flow loses this connection: it turns ERROR (rule P-14)
            self.rt.flows.connection_lost(
                link, f"connection {connection_id!r} was removed while flow {link.flow_id!r} ran"
            )
            await self.rt.flows.stop_link(link)
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

    async def disconnect_all(self) -> None:
        for link in list(self.links.values()):
            await self.disconnect_locked(link.id)


def _check_transport(entity: Entity, transport: str) -> None:
    offered = entity.entity_type.protocols
    if offered and transport not in offered:
        raise FailedPrecondition(
            f"entity {entity.id!r} ({entity.entity_type.type}) does not speak transport"
            f" {transport!r}: it speaks {', '.join(offered)}"
        )


def _check_codec(
    target: Entity, quality: common_pb2.QualityProfile, media_type: MediaType,
    source: Entity | None,
) -> None:
    """A codec the target cannot take is FAILED_PRECONDITION naming it (rule P-3): the one the
    quality asks for, or on a LOCAL link every codec the source can produce."""
    takes = target.entity_type.codecs
    if not takes:
        return  # the type declares no codecs: it takes any
    asked = quality.video_codec if media_type is MediaType.VIDEO else quality.audio_codec
    if asked and asked not in takes:
        raise FailedPrecondition(
            f"quality codec {asked!r}: entity {target.id!r} ({target.entity_type.type}) takes"
            f" codecs {', '.join(takes)}: ask for one of them"
        )
    if asked or source is None:
        return
    et = source.entity_type
    produces = (et.output_codecs if et.kind is EntityKind.CONVERTER else ()) or et.codecs
    if produces and not set(produces) & set(takes):
        raise FailedPrecondition(
            f"codec: entity {source.id!r} produces {', '.join(produces)} but entity"
            f" {target.id!r} takes {', '.join(takes)}: put a converter between them"
        )
