"""Mutant patches of entities, connections and flows (N and P rules)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from mediagrid.sdk import limits
from mediagrid.sdk import pipeline as pipeline_mod
from mediagrid.sdk.entity import Entity
from mediagrid.sdk.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from mediagrid.sdk.flows import STOPPED, FlowManager
from mediagrid.sdk.pipeline import PipelineManager
from mediagrid.sdk.runtime import EntityManager
from mediagrid.sdk.servicers import EntityServicer
from mediagrid.sdk.store import Registry
from mediagrid.sdk.types import EntityType, MediaType
from mediagrid.v1 import entity_pb2


def _create_with(change: Any) -> None:
    create = EntityManager.create

    async def patched(self: EntityManager, req: entity_pb2.CreateEntityRequest) -> Any:
        copy = entity_pb2.CreateEntityRequest()
        copy.CopyFrom(req)
        change(copy)
        return await create(self, copy)
    EntityManager.create = patched  # type: ignore[method-assign]


def media_type_flips() -> None:
    configure = EntityManager.configure

    async def patched(self: EntityManager, entity_id: str, changes: Any, replace: bool) -> Entity:
        entity = await configure(self, entity_id, changes, replace)
        entity.media_type = (MediaType.AUDIO if entity.media_type is MediaType.VIDEO
                             else MediaType.VIDEO)  # mutant: N-1
        return entity
    EntityManager.configure = patched  # type: ignore[method-assign]


def request_id_ignored() -> None:
    _create_with(lambda req: setattr(req, "request_id", ""))


def requested_id_ignored() -> None:
    _create_with(lambda req: setattr(req, "entity_id", ""))


def bad_config_wrong_code() -> None:
    validate = EntityType.validate_config

    def patched(self: EntityType, config: dict[str, str], field_name: str = "config") -> None:
        try:
            validate(self, config, field_name)
        except InvalidArgument as exc:
            raise FailedPrecondition(exc.message) from None
    EntityType.validate_config = patched  # type: ignore[method-assign]


def second_type_config_unchecked() -> None:
    validate = EntityType.validate_config

    def patched(self: EntityType, config: dict[str, str], field_name: str = "config") -> None:
        if self.type != "tone":  # mutant: the second entity type takes any config (N-3)
            validate(self, config, field_name)
    EntityType.validate_config = patched  # type: ignore[method-assign]


def media_mismatch_invalid_argument() -> None:
    pick = EntityManager._media_type

    def patched(type_name: str, offered: Any, requested: int) -> MediaType:
        try:
            return pick(type_name, offered, requested)
        except FailedPrecondition as exc:
            raise InvalidArgument(exc.message) from None
    EntityManager._media_type = staticmethod(patched)  # type: ignore[method-assign,assignment]


def ok_for_unknown_id(after_calls: int = 0) -> None:
    get = EntityServicer.GetEntityStatus
    calls = itertools.count(1)

    async def patched(self: EntityServicer, request: Any, context: Any) -> Any:
        if next(calls) > after_calls and request.entity_id not in self.rt.entities.registry:
            return entity_pb2.GetEntityStatusResponse(entity_id=request.entity_id)
        return await get(self, request, context)
    EntityServicer.GetEntityStatus = patched  # type: ignore[method-assign]


def ok_for_unknown_after_100_calls() -> None:
    ok_for_unknown_id(after_calls=100)


def destroy_not_idempotent() -> None:
    destroy = EntityManager.destroy_locked

    async def patched(self: EntityManager, entity_id: str) -> bool:
        if self.registry.existed(entity_id) and entity_id not in self.registry:
            raise NotFound(f"entity {entity_id!r} is gone")  # mutant: N-6
        return await destroy(self, entity_id)
    EntityManager.destroy_locked = patched  # type: ignore[method-assign]


def failed_configure_changes_config() -> None:
    configure = EntityManager.configure

    async def patched(self: EntityManager, entity_id: str, changes: Any, replace: bool) -> Any:
        entity = self.registry.get(entity_id)
        if entity is not None:  # mutant: the new config is in force before it is checked
            entity.config = dict(changes) if replace else {**entity.config, **changes}
        return await configure(self, entity_id, changes, False)
    EntityManager.configure = patched  # type: ignore[method-assign]


def page_token_from_nowhere() -> None:
    decode = Registry._decode

    def patched(self: Registry[Any], token: str) -> int:
        try:
            return decode(self, token)
        except InvalidArgument:
            return 0  # mutant: any token starts at the first page (N-8)
    Registry._decode = patched  # type: ignore[method-assign]


def no_limits() -> None:
    limits.check_name = lambda field, value: value  # type: ignore[assignment]
    limits.check_config_map = lambda field, config: dict(config)  # type: ignore[assignment]


def destroyed_still_listed() -> None:
    destroy, page = EntityManager.destroy_locked, EntityManager.list
    graveyard: list[Entity] = []

    async def destroyed(self: EntityManager, entity_id: str) -> bool:
        entity = self.registry.get(entity_id)
        done = await destroy(self, entity_id)
        if entity is not None:
            graveyard.append(entity)
        return done

    def listed(self: EntityManager, page_size: int, token: str, entity_type: str) -> Any:
        entities, next_token = page(self, page_size, token, entity_type)
        return ([*entities, *graveyard] if not token else entities), next_token
    EntityManager.destroy_locked = destroyed  # type: ignore[method-assign]
    EntityManager.list = listed  # type: ignore[method-assign]


def concurrent_create_duplicates() -> None:
    create = EntityManager.create

    async def patched(self: EntityManager, req: entity_pb2.CreateEntityRequest) -> Any:
        if req.entity_id and req.entity_id in self.registry:
            raise AlreadyExists(f"entity_id {req.entity_id!r} is in use")
        await asyncio.sleep(0.05)  # mutant: check, then act (N-9 under concurrency)
        try:
            return await create(self, req)
        except AlreadyExists:
            return self.registry.get(req.entity_id), True
    EntityManager.create = patched  # type: ignore[method-assign]


def _end_without(check: str) -> None:
    end = PipelineManager._end

    def patched(self: PipelineManager, entity_id: str, field: str, media_type: MediaType,
                side: str) -> Entity:
        if check == "unknown":
            try:
                return end(self, entity_id, field, media_type, side)
            except NotFound as exc:
                raise InvalidArgument(exc.message) from None
        entity = self.rt.entities.registry.require(entity_id, field)
        if check == "media":
            return end(self, entity_id, field, entity.media_type, side)
        return entity  # "kind": no kind check (nor media check)
    PipelineManager._end = patched  # type: ignore[method-assign]


def connect_unknown_invalid_argument() -> None:
    _end_without("unknown")


def connect_media_unchecked() -> None:
    _end_without("media")


def sink_as_source() -> None:
    _end_without("kind")


def endpoint_without_options() -> None:
    target = pipeline_mod.target_endpoint

    def patched(transport: str, host: str) -> Any:
        endpoint = target(transport, host)
        endpoint.url = endpoint.url.split("?")[0]  # mutant: not the form of §4.1 (P-4)
        return endpoint
    pipeline_mod.target_endpoint = patched


def connect_not_idempotent() -> None:
    connect = PipelineManager.connect

    async def patched(self: PipelineManager, req: Any) -> Any:
        if req.connection_id in self.links:
            raise AlreadyExists(f"connection {req.connection_id!r} exists")  # mutant: P-6
        return await connect(self, req)
    PipelineManager.connect = patched  # type: ignore[method-assign]


def disconnect_not_idempotent() -> None:
    disconnect = PipelineManager.disconnect_locked

    async def patched(self: PipelineManager, connection_id: str) -> bool:
        if self.links.existed(connection_id) and connection_id not in self.links:
            raise NotFound(f"connection {connection_id!r} is gone")  # mutant: P-7
        return await disconnect(self, connection_id)
    PipelineManager.disconnect_locked = patched  # type: ignore[method-assign]


def stopped_flow_restartable() -> None:
    start = FlowManager.start_flow

    async def patched(self: FlowManager, flow_id: str, name: str, ids: list[str]) -> Any:
        flow = self.flows.get(flow_id)
        if flow is not None and flow.state == STOPPED:
            del self.flows[flow_id]  # mutant: a stopped flow id starts again (P-8)
        return await start(self, flow_id, name, ids)
    FlowManager.start_flow = patched  # type: ignore[method-assign]


def disconnect_keeps_flow() -> None:
    FlowManager.connection_lost = lambda self, link, message: None  # type: ignore[method-assign]
