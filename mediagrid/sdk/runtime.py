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
from mediagrid.sdk.types import Health, MediaType, keep_secrets
from mediagrid.v1 import entity_pb2, event_pb2, pipeline_pb2

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
        advertise_host: str = "",
    ) -> None:
        module.check()
        self.module = module
        self.module_id = module_id or module.id
        self.clock = clock
        self.bind_host = bind_host
        self.advertise_host = advertise_host or {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(
            bind_host, bind_host)
        """The host put in TARGET endpoints (rule P-17)."""
        self.status = ModuleStatusTracker(clock=clock)
        self.reporter = reporter or EventReporter(self.module_id, self.status.instance_id)
        self.reporter.instance_id = self.status.instance_id
        self.reporter.module_id = self.module_id
        self.lock = asyncio.Lock()
        self.entities = EntityManager(self)
        self.pipeline = PipelineManager(self)
        self.flows = FlowManager(self)
        self.config = ModuleConfig(module) if module.configurable else None
        self.entity_type_infos = [t.info() for t in module.entity_types.values()]
        self._undone: tuple[list[str], list[str]] = ([], [])

    def require_ready(self) -> None:
        if not self.status.ready:
            raise Unavailable(
                f"module {self.module_id!r} is {self.status.state.name}, not READY:"
                " retry after HealthCheck reports READY"
            )

    def require_configurable(self) -> None:
        """ConfigurableModuleService answers in READY and ERROR (rule C-11)."""
        if self.status.state not in (ModuleState.READY, ModuleState.ERROR):
            raise Unavailable(
                f"module {self.module_id!r} is {self.status.state.name}: its configuration"
                " can be read and changed once it is READY (or in ERROR)"
            )

    @contextlib.asynccontextmanager
    async def config_change(self) -> AsyncIterator[None]:
        """Serializes a config change as `mutation` does, in READY or ERROR (rule C-11)."""
        self.require_configurable()
        async with self.lock:
            self.require_configurable()
            yield

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

    def leftovers(self) -> str:
        """What a teardown cut short by the grace period left undone, for stderr (H-26)."""
        flows, entities = self._undone
        return (f"flows not stopped: {', '.join(flows) or 'none'}; entities not destroyed:"
                f" {', '.join(entities) or 'none'}")

    async def teardown(self) -> None:
        """Stops every flow, removes every link, destroys every entity, runs shutdown hooks."""
        async with self.lock:
            flows = [f.id for f in self.flows.flows.values()
                     if f.state != pipeline_pb2.FLOW_STATE_STOPPED]
            self._undone = (flows, [e.id for e in self.entities.registry.values()])
            await self.flows.stop_all()
            self._undone = ([], self._undone[1])
            await self.pipeline.disconnect_all()
            for entity in list(self.entities.registry.values()):
                await self.entities.destroy_locked(entity.id)
                self._undone[1].remove(entity.id)
            for hook in self.module.shutdown_hooks:
                await hook(self)


class EntityManager:
    def __init__(self, runtime: ModuleRuntime) -> None:
        self.rt = runtime
        self.registry: Registry[Entity] = Registry("entity", runtime.status.instance_id)
        self._by_request: dict[str, tuple[Entity, bytes]] = {}
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
                return self._repeat(req), False
            entity_type = rt.module.entity_types.get(req.entity_type)
            if entity_type is None:
                known = ", ".join(rt.module.entity_types) or "(none)"
                raise InvalidArgument(
                    f"entity_type {req.entity_type!r} is not offered by module"
                    f" {rt.module_id!r}: use one of {known}"
                )
            media_type = self._media_type(entity_type.type, entity_type.media_types, req.media_type)
            config = entity_type.with_defaults(keep_secrets(config, {}, entity_type.config))
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
            # ENTITY_CREATED goes out before the entity becomes visible (rule E-6), then its
            # first status: CONFIGURED, or ERROR if its create hook failed it (N-13, E-20).
            rt.reporter.event(
                event_pb2.EVENT_TYPE_ENTITY_CREATED, f"{entity_type.type} entity created",
                entity_id=entity_id, details={"type": entity_type.type},
            )
            entity.ordinal = self.registry.add(entity_id, entity)
            if req.request_id:
                self._by_request[req.request_id] = (entity, _arguments(req))
            if entity.state is not EntityState.ERROR:
                entity.state = EntityState.CONFIGURED
            from mediagrid.sdk.convert import entity_status

            rt.reporter.status(entity.id, entity_status(entity))
            return entity, True

    def _repeat(self, req: entity_pb2.CreateEntityRequest) -> Entity:
        """A repeated request_id (rules N-2, N-16): the first entity for the same arguments."""
        entity, arguments = self._by_request[req.request_id]
        if arguments != _arguments(req):
            raise AlreadyExists(
                f"request_id {req.request_id!r} was used by a CreateEntity with other arguments"
                f" (it created {entity.id!r}): use a new request_id for a new entity"
            )
        if entity.state is EntityState.DESTROYED:
            raise FailedPrecondition(
                f"request_id {req.request_id!r} created entity {entity.id!r}, which has been"
                " destroyed since: a repeat never re-creates it; use a new request_id"
            )
        return entity

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
            changes = keep_secrets(changes, entity.config, entity.entity_type.config)
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
            if entity.state is EntityState.ERROR:  # tries again with the new config (N-14)
                self.set_status(entity, state=self.rt.flows.state_of(entity),
                                health=Health.HEALTHY)
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
        """A page in creation order; the token is bound to the filter (rule N-19)."""
        self.rt.require_ready()
        size = limits.page_size(page_size)
        return self.registry.page(
            size, token, (lambda e: e.entity_type.type == entity_type) if entity_type else
            (lambda e: True), filter_key=entity_type,
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


def _arguments(req: entity_pb2.CreateEntityRequest) -> bytes:
    """Every field but request_id, as comparable bytes (maps sorted by key): rule N-16."""
    copy = entity_pb2.CreateEntityRequest()
    copy.CopyFrom(req)
    copy.request_id = ""
    return copy.SerializeToString(deterministic=True)
