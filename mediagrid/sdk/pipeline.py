"""Connections inside one module (rules P-1..P-7, P-14..P-18), generic over entity types.

Flows over these connections live in `mediagrid.sdk.flows`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mediagrid import codecs
from mediagrid.codecs import DEFAULT_TRANSPORT
from mediagrid.sdk import limits
from mediagrid.sdk.endpoints import check_endpoint_url, known_transport, target_endpoint
from mediagrid.sdk.entity import Endpoint, Entity, Link, Role
from mediagrid.sdk.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from mediagrid.sdk.store import Registry
from mediagrid.sdk.types import EntityKind, MediaType
from mediagrid.v1 import common_pb2, event_pb2, pipeline_pb2

if TYPE_CHECKING:
    from mediagrid.sdk.runtime import ModuleRuntime

def request_key(req: pipeline_pb2.ConnectEntitiesRequest, role: Role, transport: str) -> tuple:
    """What makes two ConnectEntities calls "the same arguments" (rule P-18)."""
    endpoint_url = req.endpoint.url if role is Role.SOURCE else ""
    return (int(role), req.source_entity_id, req.target_entity_id, req.media_type,
            req.quality.SerializeToString(deterministic=True), transport, endpoint_url)


def asked_codec(quality: common_pb2.QualityProfile, media_type: MediaType) -> str:
    """The codec a quality asks for on a connection of `media_type` (rule P-3)."""
    return quality.video_codec if media_type is MediaType.VIDEO else quality.audio_codec


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
        limits.check_id("source_entity_id", req.source_entity_id)  # both ends (rule N-17)
        limits.check_id("target_entity_id", req.target_entity_id)
        transport = self._transport(req, role)
        key = request_key(req, role, transport)
        async with rt.mutation():
            existing = self.links.get(req.connection_id)
            if existing is not None:
                if existing.request_key == key:
                    return existing
                raise AlreadyExists(
                    f"connection_id {req.connection_id!r} exists with different arguments:"
                    " disconnect it first or use a new connection_id"
                )
            link = self._new_link(req, role, media_type, transport)
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
                details=link.ends(),
            )
            self.links.add(link.id, link)
            return link

    @staticmethod
    def _transport(req: pipeline_pb2.ConnectEntitiesRequest, role: Role) -> str:
        """The connection's transport, its form checked (rules P-4, P-16): "local" for LOCAL
        (transport_protocol and endpoint ignored), the endpoint's for SOURCE, the request's
        for TARGET; empty means mpegts-udp."""
        if role is Role.LOCAL:
            return "local"
        if role is Role.TARGET:
            transport = req.transport_protocol or DEFAULT_TRANSPORT
            known_transport(transport, "transport_protocol")
            return transport
        if not req.endpoint.url:
            raise InvalidArgument(
                "endpoint.url is required for role SOURCE: pass the endpoint the"
                " target's module returned from its TARGET call"
            )
        transport = req.endpoint.transport or DEFAULT_TRANSPORT
        known_transport(transport, "endpoint.transport")
        check_endpoint_url(req.endpoint, transport)
        return transport

    def _new_link(
        self, req: pipeline_pb2.ConnectEntitiesRequest, role: Role, media_type: MediaType,
        transport: str,
    ) -> Link:
        """Checks both ends (P-1..P-3, P-15, P-16) and builds the link with its endpoint."""
        rt = self.rt
        source = target = None
        if role in (Role.LOCAL, Role.SOURCE):
            source = self._end(req.source_entity_id, "source_entity_id", media_type, "source")
        if role in (Role.LOCAL, Role.TARGET):
            target = self._end(req.target_entity_id, "target_entity_id", media_type, "target")
        if source is not None and source is target:
            raise InvalidArgument("source_entity_id and target_entity_id are the same entity")
        for end in (source, target):
            if end is not None and role is not Role.LOCAL:
                _check_transport(end, transport)
        check_codecs(req.quality, media_type, source, target, transport)
        endpoint: Endpoint | None = None
        if role is Role.TARGET:
            endpoint = target_endpoint(transport, rt.bind_host, rt.advertise_host,
                                       asked_codec(req.quality, media_type), media_type)
        elif role is Role.SOURCE:
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
                details=link.ends(),
            )
        return True

    async def disconnect_all(self) -> None:
        for link in list(self.links.values()):
            await self.disconnect_locked(link.id)


def _check_transport(entity: Entity, transport: str) -> None:
    """A transport between modules the entity's type offers (rule P-16)."""
    et = entity.entity_type
    if not et.transports:
        raise FailedPrecondition(
            f"entity {entity.id!r} ({et.type}) takes LOCAL connections only: its type lists no"
            f" transport between modules in protocols ({', '.join(codecs.TRANSPORTS)})"
        )
    if transport not in et.transports:
        raise FailedPrecondition(
            f"entity {entity.id!r} ({et.type}) does not speak transport {transport!r}: it"
            f" speaks {', '.join(et.transports)}"
        )


def check_codecs(
    quality: common_pb2.QualityProfile, media_type: MediaType, source: Entity | None,
    target: Entity | None, transport: str,
) -> None:
    """The codec asked for (the quality field of the connection's media type) is one the
    target takes (P-3), the source produces (P-15) and, between modules, MPEG-TS carries
    (P-15); with none asked, a LOCAL link's ends must share a codec (P-3). A type that lists
    no codecs of the media type takes, or produces, any. FAILED_PRECONDITION otherwise."""
    asked = asked_codec(quality, media_type)
    takes = target.entity_type.takes(media_type) if target is not None else ()
    produces = source.entity_type.produces(media_type) if source is not None else ()
    if asked and takes and asked not in takes:
        assert target is not None
        raise FailedPrecondition(
            f"quality codec {asked!r}: entity {target.id!r} ({target.entity_type.type}) takes"
            f" codecs {', '.join(takes)}: ask for one of them"
        )
    if asked and produces and asked not in produces:
        assert source is not None
        raise FailedPrecondition(
            f"quality codec {asked!r}: entity {source.id!r} ({source.entity_type.type})"
            f" produces {', '.join(produces)}; it does not transcode: ask for one of them, or"
            " put a converter between"
        )
    if asked and transport != "local" and asked not in codecs.MPEGTS_CODECS:
        raise FailedPrecondition(
            f"quality codec {asked!r} cannot travel over {transport}: MPEG-TS has no stream"
            f" type for it; ask for one of {', '.join(sorted(codecs.MPEGTS_CODECS))}"
        )
    if not asked and source is not None and target is not None and takes and produces \
            and not set(produces) & set(takes):
        raise FailedPrecondition(
            f"codec: entity {source.id!r} produces {', '.join(produces)} but entity"
            f" {target.id!r} takes {', '.join(takes)}: put a converter between them"
        )
