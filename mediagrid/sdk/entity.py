"""The classes an author subclasses and the objects the SDK hands to them.

    @module.entity("testsrc")
    class TestSource(sdk.Entity):
        async def start(self, link: sdk.Link) -> None:
            link.spawn(self.produce(link))     # cancelled by the SDK at StopFlow

Every hook is optional. The SDK has already checked ids, limits, config (against the type's
schema), media types, capabilities and the module state before it calls a hook, and it
sends the contract's events (ENTITY_CREATED, CONNECTION_CREATED, FLOW_STARTED...) itself.
Raise an `sdk` error (InvalidArgument, FailedPrecondition...) to refuse a call.
Hooks run on the module's event loop: never block it (use asyncio subprocesses, or
`asyncio.to_thread` for blocking libraries).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from mediagrid.sdk.endpoints import Endpoint
from mediagrid.sdk.errors import FailedPrecondition
from mediagrid.sdk.reporter import metric_value
from mediagrid.sdk.types import EntityType, Health, MediaType, NamedIntEnum
from mediagrid.v1 import common_pb2, event_pb2, pipeline_pb2

if TYPE_CHECKING:
    from mediagrid.sdk.runtime import ModuleRuntime

log = logging.getLogger("mediagrid.sdk")


class EntityState(NamedIntEnum):
    CREATED = common_pb2.ENTITY_STATE_CREATED
    CONFIGURED = common_pb2.ENTITY_STATE_CONFIGURED
    ACTIVE = common_pb2.ENTITY_STATE_ACTIVE
    ERROR = common_pb2.ENTITY_STATE_ERROR
    DESTROYED = common_pb2.ENTITY_STATE_DESTROYED


class Role(NamedIntEnum):
    """Which side of a connection this module serves."""

    LOCAL = pipeline_pb2.CONNECTION_ROLE_LOCAL
    SOURCE = pipeline_pb2.CONNECTION_ROLE_SOURCE
    TARGET = pipeline_pb2.CONNECTION_ROLE_TARGET


@dataclass
class LinkMetrics:
    bitrate_bps: int = 0
    fps: float = 0.0
    frames: int = 0
    latency_ms: int = -1
    dropped_frames: int = 0
    restarts: int = 0
    bytes_written: int = 0
    bytes_moved: int = 0
    """Bytes received (target) or sent (source) on the connection since it started."""


class _Scoped:
    """Owns background tasks that the SDK cancels when the owner's life ends."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # The module's stderr gets the whole story (the flow gets the one-line reason).
            log.error("%s: task %s failed", self._owner(), task.get_name(), exc_info=exc)
            self._task_failed(exc)

    def _owner(self) -> str:
        raise NotImplementedError

    def _task_failed(self, exc: BaseException) -> None:
        raise NotImplementedError

    async def _cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


class Link(_Scoped):
    """One connection as this module serves it (LOCAL: both ends are here)."""

    def __init__(
        self, runtime: ModuleRuntime, *, id: str, role: Role, media_type: MediaType,
        source: Entity | None, target: Entity | None, source_entity_id: str,
        target_entity_id: str, endpoint: Endpoint | None, quality: common_pb2.QualityProfile,
        transport: str, source_module_id: str = "", target_module_id: str = "",
    ) -> None:
        super().__init__()
        self._runtime = runtime
        self.id, self.role, self.media_type = id, role, media_type
        self.source, self.target = source, target
        self.source_entity_id, self.target_entity_id = source_entity_id, target_entity_id
        self.source_module_id, self.target_module_id = source_module_id, target_module_id
        self.endpoint, self.quality, self.transport = endpoint, quality, transport
        self.state = pipeline_pb2.CONNECTION_STATE_ESTABLISHED
        self.health = Health.HEALTHY
        self.error_message = ""
        self.metrics = LinkMetrics()
        self.flow_id = ""
        self.request_key = b""
        self.moving_at = 0.0
        """When media was last measured moving on this link (module clock); 0: not yet."""

    @property
    def entities(self) -> list[Entity]:
        """The entities of this module on this link, target first."""
        return [e for e in (self.target, self.source) if e is not None]

    @property
    def reporting_entity(self) -> Entity:
        """The end a connection event names: the target when held here, else the source."""
        return self.entities[0]

    def ends(self) -> dict[str, str]:
        """Both ends, for the details of a connection event (rule E-21)."""
        return {"source_entity_id": self.source_entity_id,
                "target_entity_id": self.target_entity_id}

    def update_metrics(self, **values: Any) -> None:
        """Sets measured values (frames, fps, bitrate_bps, latency_ms, dropped_frames,
        restarts, bytes_written, bytes_moved) and reports them as a Metrics sample. More
        frames than before (or, without frames, a non-zero fps or bitrate) is media measured
        moving: it is what turns the flow ACTIVE and keeps it so (rule P-11). When you report
        `bytes_moved` too, frames without new bytes do not count: a decoder flushing its held
        frames at a receive timeout is not media moving (rule P-22)."""
        for key in values:
            if not hasattr(self.metrics, key):
                raise TypeError(f"unknown link metric {key!r}: use one of {vars(self.metrics)}")
        if "frames" in values:
            moving = values["frames"] > self.metrics.frames
        else:
            moving = values.get("fps", 0) > 0 or values.get("bitrate_bps", 0) > 0
        if "bytes_moved" in values:
            moving = moving and values["bytes_moved"] > self.metrics.bytes_moved
        for key, value in values.items():
            setattr(self.metrics, key, value)
        self._runtime.reporter.metrics(
            {k: metric_value(v) for k, v in values.items()},
            entity_id=self.reporting_entity.id, flow_id=self.flow_id, connection_id=self.id,
        )
        if moving:
            self._runtime.flows.link_moving(self)

    def fail(self, message: str) -> None:
        """Marks this link (and its flow) ERROR and reports an ERROR event."""
        self._runtime.flows.link_failed(self, message)

    def _owner(self) -> str:
        return f"connection {self.id!r}"

    def _task_failed(self, exc: BaseException) -> None:
        self.fail(f"{type(exc).__name__}: {exc}")


class Entity(_Scoped):
    """Base class of an entity type's implementation. One instance per entity."""

    entity_type: ClassVar[EntityType]

    def __init__(
        self, runtime: ModuleRuntime, *, id: str, name: str, media_type: MediaType,
        config: Mapping[str, str],
    ) -> None:
        super().__init__()
        self._runtime = runtime
        self.id, self.name, self.media_type = id, name, media_type
        self.config: dict[str, str] = dict(config)
        self.state = EntityState.CREATED
        self.health = Health.HEALTHY
        self.error_message = ""
        self.metrics: dict[str, Any] = {}
        self.links: dict[str, Link] = {}
        self.created_at = self.last_updated = time.time()
        self.ordinal = 0
        self.request_id = ""

    # -- hooks (override what you need) ------------------------------------------------------
    async def create(self) -> None:
        """Acquire what the entity needs. Raise to refuse; nothing is reported then."""

    async def configure(self, config: dict[str, str]) -> None:
        """Called with the new, schema-checked config before it replaces `self.config`.
        Raise InvalidArgument to refuse it; the previous config stays in force."""

    async def destroy(self) -> None:
        """Release resources. Links are stopped and removed before this is called."""

    async def connect(self, link: Link) -> None:
        """Set up this entity's end of `link`. For Role.TARGET the SDK has put the URL the
        source will send to in `link.endpoint` (a free port for `link.transport`: udp://,
        tcp:// or srt://, contract §4.1); listen there or replace it."""

    async def disconnect(self, link: Link) -> None:
        """Tear down this entity's end of `link` (after `stop` if it was running)."""

    async def start(self, link: Link) -> None:
        """Start media on `link`. On a LOCAL link both ends are called, target first.
        Spawn long-running work with `link.spawn(...)`; the SDK cancels it at stop."""

    async def stop(self, link: Link) -> None:
        """Stop media on `link`; its spawned tasks are cancelled right after this returns."""

    async def adjust_quality(self, link: Link, quality: common_pb2.QualityProfile) -> None:
        """Apply a new quality on a running link (zero fields: unchanged)."""
        raise FailedPrecondition(
            f"entity type {self.entity_type.type!r} cannot change quality on a running flow"
        )

    # -- helpers for the implementation ------------------------------------------------------
    def report(
        self, message: str, *, severity: str = "info", details: Mapping[str, str] | None = None
    ) -> None:
        """Reports an INFO, WARNING or ERROR event about this entity."""
        types = {
            "info": event_pb2.EVENT_TYPE_INFO,
            "warning": event_pb2.EVENT_TYPE_WARNING,
            "error": event_pb2.EVENT_TYPE_ERROR,
        }
        self._runtime.reporter.event(types[severity], message, entity_id=self.id, details=details)

    def report_metrics(self, **values: Any) -> None:
        """Stores entity metrics (shown by GetEntityStatus) and reports them."""
        self.metrics.update(values)
        self._runtime.reporter.metrics(
            {k: metric_value(v) for k, v in values.items()}, entity_id=self.id
        )

    @property
    def module_config(self) -> dict[str, str]:
        """The module-wide configuration in force (ConfigurableModuleService, rules C-8..C-11),
        secrets in clear; {} for a module that is not configurable. Read it when you need it:
        it changes when ApplyConfig succeeds (`@module.on_config` hooks see it first)."""
        config = self._runtime.config
        return dict(config.values) if config is not None else {}

    def set_health(self, health: Health, message: str = "") -> None:
        self._runtime.entities.set_status(self, health=health, message=message)

    def fail(self, message: str) -> None:
        """Moves the entity to ERROR and reports it (ignored once it is destroyed: nothing
        about an entity follows its ENTITY_DESTROYED, rule E-7)."""
        if self.state is EntityState.DESTROYED:
            return
        self._runtime.entities.set_status(
            self, state=EntityState.ERROR, health=Health.UNHEALTHY, message=message
        )
        if self._runtime.reporter.known_entity(self.id):  # in create(): its first status says it
            self._runtime.reporter.event(event_pb2.EVENT_TYPE_ERROR, message, entity_id=self.id)

    def _owner(self) -> str:
        return f"entity {self.id!r}"

    def _task_failed(self, exc: BaseException) -> None:
        self.fail(f"{type(exc).__name__}: {exc}")
