"""One running module: its state, entities, pipeline and reporter, independent of gRPC.

The servicers translate requests into these calls; tests can call them directly. Mutations
are serialized by one lock; reads (HealthCheck, Get*, List*) never take it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable

from mediagrid.sdk import limits
from mediagrid.sdk.config import ModuleConfig
from mediagrid.sdk.entity import Entity, EntityState
from mediagrid.sdk.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    Unavailable,
)
from mediagrid.sdk.flows import FlowManager
from mediagrid.sdk.module import Module
from mediagrid.sdk.pipeline import PipelineManager
from mediagrid.sdk.reporter import EventReporter
from mediagrid.sdk.state import ModuleState, ModuleStatusTracker
from mediagrid.sdk.store import Registry
from mediagrid.sdk.types import Health, MediaType
from mediagrid.v1 import entity_pb2, event_pb2

log = logging.getLogger("mediagrid.sdk")


class ModuleRuntime:
    def __init__(
        self,
        module: Module,
        *,
        module_id: str = "",
        reporter: EventReporter | None = None,
        clock: Callable[[], float] = time.time,
        bind_host: str = "127.0.0.1",
    ) -> None:
        module.check()
        self.module = module
        self.module_id = module_id or module.id
        self.clock = clock
        self.bind_host = bind_host
        self.status = ModuleStatusTracker(clock=clock)
        self.reporter = reporter or EventReporter(self.module_id, self.status.instance_id)
        self.reporter.instance_id = self.status.instance_id
        self.reporter.module_id = self.module_id
        self.lock = asyncio.Lock()
        self.entities = EntityManager(self)
        self.pipeline = PipelineManager(self)
        self.flows = FlowManager(self)
        self.config = ModuleConfig(module) if module.config_schema is not None else None
        self.entity_type_infos = [t.info() for t in module.entity_types.values()]

    def require_ready(self) -> None:
        if not self.status.ready:
            raise Unavailable(
                f"module {self.module_id!r} is {self.status.state.name}, not READY:"
                " retry after HealthCheck reports READY"
            )

    @contextlib.asynccontextmanager
    async def mutation(self) -> AsyncIterator[None]:
        """Serializes a change: READY is checked before and again after waiting for the lock,
        so a call queued behind a shutdown is UNAVAILABLE, not run on a torn-down module
        (rule H-10)."""
        self.require_ready()
        async with self.lock:
            self.require_ready()
            yield

    async def start(self) -> None:
        """Runs the startup hooks and turns READY (ERROR when a hook fails). A shutdown that
        arrived meanwhile wins: the module stays STOPPING (rule H-9)."""
        try:
            for hook in self.module.startup_hooks:
                await hook(self)
        except Exception as exc:
            log.exception("module startup failed")
            if self.status.state is ModuleState.STARTING:
                self.status.transition(ModuleState.ERROR, f"startup failed: {exc}")
            return
        if self.status.state is ModuleState.STARTING:
            self.status.transition(ModuleState.READY)

    def begin_shutdown(self) -> bool:
        """Moves to STOPPING; False when a shutdown was already under way."""
        return self.status.transition(ModuleState.STOPPING)

    async def teardown(self) -> None:
        """Stops every flow, removes every link, destroys every entity, runs shutdown hooks."""
        async with self.lock:
            await self.flows.stop_all()
            await self.pipeline.disconnect_all()
            for entity in list(self.entities.registry.values()):
                await self.entities.destroy_locked(entity.id)
            for hook in self.module.shutdown_hooks:
                await hook(self)


class EntityManager:
    def __init__(self, runtime: ModuleRuntime) -> None:
        self.rt = runtime
        self.registry: Registry[Entity] = Registry("entity", runtime.status.instance_id)
        self._by_request: dict[str, Entity] = {}
        self._numbers = itertools.count(1)

    def get(self, entity_id: str) -> Entity:
        limits.check_id("entity_id", entity_id)
        return self.registry.require(entity_id, "entity_id")

    async def create(self, req: entity_pb2.CreateEntityRequest) -> tuple[Entity, bool]:
        rt = self.rt
        rt.require_ready()
        limits.check_request_id(req.request_id)
        limits.check_name("name", req.name)
        limits.check_id("entity_id", req.entity_id, required=False)
        config = limits.check_config_map("config", req.config)
        async with rt.mutation():
            if req.request_id and req.request_id in self._by_request:
                return self._by_request[req.request_id], False
            entity_type = rt.module.entity_types.get(req.entity_type)
            if entity_type is None:
                known = ", ".join(rt.module.entity_types) or "(none)"
                raise InvalidArgument(
                    f"entity_type {req.entity_type!r} is not offered by module"
                    f" {rt.module_id!r}: use one of {known}"
                )
            media_type = self._media_type(entity_type.type, entity_type.media_types, req.media_type)
            config = entity_type.with_defaults(config)
            entity_type.validate_config(config)
            entity_id = req.entity_id or self._new_id(entity_type.type)
            if entity_id in self.registry:
                raise AlreadyExists(
                    f"entity_id {entity_id!r} is in use: destroy it first or choose another id"
                )
            cls = rt.module.entity_classes[entity_type.type]
            entity = cls(rt, id=entity_id, name=req.name or entity_id, media_type=media_type,
                         config=config)
            entity.created_at = entity.last_updated = rt.clock()
            entity.request_id = req.request_id
            try:
                await entity.create()
            except BaseException:
                await entity._cancel_tasks()  # a refused entity leaves nothing running
                raise
            # ENTITY_CREATED goes out before the entity becomes visible (rule E-6).
            rt.reporter.event(
                event_pb2.EVENT_TYPE_ENTITY_CREATED, f"{entity_type.type} entity created",
                entity_id=entity_id, details={"type": entity_type.type},
            )
            entity.ordinal = self.registry.add(entity_id, entity)
            if req.request_id:
                self._by_request[req.request_id] = entity
            self.set_status(entity, state=EntityState.CONFIGURED)
            return entity, True

    @staticmethod
    def _media_type(type_name: str, offered: tuple[MediaType, ...], requested: int) -> MediaType:
        if requested == 0:
            if len(offered) == 1:
                return offered[0]
            raise InvalidArgument(
                f"media_type is required for entity type {type_name!r}, which carries"
                f" {' and '.join(m.name for m in offered)}: set one of them"
            )
        if requested not in MediaType._value2member_map_:
            raise InvalidArgument(
                f"media_type {requested} is not a media type: use MEDIA_TYPE_VIDEO or"
                " MEDIA_TYPE_AUDIO"
            )
        if requested not in offered:
            raise FailedPrecondition(
                f"entity type {type_name!r} cannot carry {MediaType(requested).name}: it"
                f" carries {', '.join(m.name for m in offered)}"
            )
        return MediaType(requested)

    def _new_id(self, type_name: str) -> str:
        base = type_name.lower() if limits.ID_PATTERN.fullmatch(type_name.lower()) else "entity"
        while True:
            candidate = f"{base}-{next(self._numbers)}"
            if candidate not in self.registry and not self.registry.existed(candidate):
                return candidate

    async def configure(self, entity_id: str, changes: dict[str, str], replace: bool) -> Entity:
        self.rt.require_ready()
        changes = limits.check_config_map("config", changes)
        async with self.rt.mutation():
            entity = self.get(entity_id)
            new = dict(changes) if replace else {**entity.config, **changes}
            limits.check_config_map("config (merged with the config in force)", new)
            new = entity.entity_type.with_defaults(new)
            entity.entity_type.validate_config(new)
            await entity.configure(new)
            entity.config = new
            self.rt.reporter.event(
                event_pb2.EVENT_TYPE_ENTITY_CONFIGURED, "configuration changed",
                entity_id=entity.id, details={"keys": ",".join(sorted(changes))},
            )
            if entity.state is EntityState.ERROR:
                self.set_status(entity, state=EntityState.CONFIGURED, health=Health.HEALTHY)
            return entity

    async def destroy(self, entity_id: str) -> bool:
        self.rt.require_ready()
        limits.check_id("entity_id", entity_id)
        async with self.rt.mutation():
            return await self.destroy_locked(entity_id)

    async def destroy_locked(self, entity_id: str) -> bool:
        entity = self.registry.removable(entity_id, "entity_id")
        if entity is None:
            return False
        for link in list(entity.links.values()):
            await self.rt.pipeline.disconnect_locked(link.id)
        try:
            await entity.destroy()
        finally:
            await entity._cancel_tasks()
            self.registry.remove(entity_id)
            entity.state = EntityState.DESTROYED
            entity.last_updated = self.rt.clock()
            self.rt.reporter.event(
                event_pb2.EVENT_TYPE_ENTITY_DESTROYED, "entity destroyed", entity_id=entity_id
            )
        return True

    def list(self, page_size: int, token: str, entity_type: str) -> tuple[list[Entity], str]:
        self.rt.require_ready()
        size = limits.page_size(page_size)
        return self.registry.page(
            size, token, (lambda e: e.entity_type.type == entity_type) if entity_type else
            (lambda e: True),
        )

    def set_status(
        self, entity: Entity, *, state: EntityState | None = None, health: Health | None = None,
        message: str | None = None,
    ) -> None:
        """Changes an entity's state or health and reports a StatusUpdate when it changed."""
        before = (entity.state, entity.health, entity.error_message)
        if state is not None:
            entity.state = state
        if health is not None:
            entity.health = health
            if health is Health.HEALTHY and message is None:
                entity.error_message = ""
        if message is not None:
            entity.error_message = message
        if (entity.state, entity.health, entity.error_message) != before:
            entity.last_updated = self.rt.clock()
            if self.rt.reporter.known_entity(entity.id):
                from mediagrid.sdk.convert import entity_status

                self.rt.reporter.status(entity.id, entity_status(entity))
