"""What a check works with: the module under test, its own gRPC channel and transcript, the
recorded reports, the resource tracker, and helpers that turn a broken rule into a verdict.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2_grpc

from mediagrid.conformance import configs
from mediagrid.conformance.launch import LaunchedModule, launch
from mediagrid.conformance.recorder import EventRecorder, EventServer
from mediagrid.conformance.registry import Check, CheckFailed, Skipped
from mediagrid.conformance.tracker import ResourceTracker
from mediagrid.conformance.transcript import Transcript
from mediagrid.manifest.model import EntityTypeSpec, ModuleManifest
from mediagrid.v1 import (
    common_pb2,
    config_pb2_grpc,
    entity_pb2,
    entity_pb2_grpc,
    module_pb2_grpc,
    pipeline_pb2_grpc,
)

MEDIA = {"video": common_pb2.MEDIA_TYPE_VIDEO, "audio": common_pb2.MEDIA_TYPE_AUDIO}
CALL_TIMEOUT = 10.0


@dataclass
class Target:
    """The module under test, as the whole run sees it."""

    manifest: ModuleManifest
    address: str
    launched: bool  # the suite started it (launch mode) and may start more instances
    token: str = ""
    process: LaunchedModule | None = None
    instance_id: str = ""
    module_id: str = ""


@dataclass
class Suite:
    """State shared by every check of one run."""

    target: Target
    recorder: EventRecorder
    events: EventServer | None  # None when the module reports elsewhere (--address mode)
    tracker: ResourceTracker
    notes: dict[str, list[str]] = field(default_factory=dict)
    flows: dict[str, list[str]] = field(default_factory=dict)  # flow id -> its connections
    scratch: str = ""  # a folder for the run ({tmp} in conformance: configs), removed after

    @property
    def manifest(self) -> ModuleManifest:
        return self.target.manifest


def media_name(value: int) -> str:
    return common_pb2.MediaType.Name(value).removeprefix("MEDIA_TYPE_").lower()


def entity_media(entity: entity_pb2.Entity) -> int:
    """The one media type an Entity message carries (rule N-1), 0 when none is set."""
    kind = entity.WhichOneof("entity")
    if kind == "source":
        return entity.source.provides.media_type
    if kind == "sink":
        return entity.sink.requires.media_type
    if kind == "converter":
        return entity.converter.input.media_type
    if kind == "protocol":
        return entity.protocol.media_type
    return 0


def entity_body(entity: entity_pb2.Entity) -> Any:
    kind = entity.WhichOneof("entity")
    return getattr(entity, kind) if kind else None


class CheckContext:
    """One check's view: `async with CheckContext(suite, check) as ctx:`."""

    def __init__(self, suite: Suite, check: Check) -> None:
        self.suite, self.check = suite, check
        self.transcript = Transcript()
        self.notes: list[str] = []
        self._channels: list[grpc.aio.Channel] = []

    # -- setup ------------------------------------------------------------------------------
    def channel(self, address: str | None = None, token: str | None = None) -> grpc.aio.Channel:
        """A channel recorded in this check's transcript (with the run's token unless given)."""
        token = self.suite.target.token if token is None else token
        options = [("grpc.max_send_message_length", 16 * 1024 * 1024),
                   ("grpc.max_receive_message_length", 16 * 1024 * 1024)]
        channel = grpc.aio.insecure_channel(address or self.suite.target.address, options=options,
                                            interceptors=self.transcript.interceptors(token))
        self._channels.append(channel)
        return channel

    def stubs(self, channel: grpc.aio.Channel) -> None:
        self.module = module_pb2_grpc.ModuleServiceStub(channel)
        self.entities = entity_pb2_grpc.EntityServiceStub(channel)
        self.pipeline = pipeline_pb2_grpc.PipelineServiceStub(channel)
        self.config = config_pb2_grpc.ConfigurableModuleServiceStub(channel)
        self.health = health_pb2_grpc.HealthStub(channel)

    async def __aenter__(self) -> CheckContext:
        self.main = self.channel()
        self.stubs(self.main)
        return self

    async def __aexit__(self, *exc: object) -> None:
        problems = await self.suite.tracker.teardown(self.main, self.check.name)
        self.notes.extend(str(p) for p in problems)
        for channel in self._channels:
            await channel.close()

    # -- verdicts ---------------------------------------------------------------------------
    @property
    def manifest(self) -> ModuleManifest:
        return self.suite.manifest

    @property
    def recorder(self) -> EventRecorder:
        return self.suite.recorder

    @property
    def tracker(self) -> ResourceTracker:
        return self.suite.tracker

    def fail(self, rule: str, expected: str, got: str) -> CheckFailed:
        return CheckFailed(rule, expected, got)

    def require(self, condition: object, rule: str, expected: str, got: str) -> None:
        if not condition:
            raise CheckFailed(rule, expected, got)

    def skip(self, reason: str) -> Skipped:
        return Skipped(reason)

    def note(self, text: str) -> None:
        self.notes.append(text)

    async def ok(self, rpc: Callable[..., Awaitable[Any]], request: Any, rule: str,
                 what: str, deadline: float = CALL_TIMEOUT, **kwargs: Any) -> Any:
        """Calls; a non-OK status fails `rule` (the call was valid and must succeed)."""
        try:
            return await rpc(request, timeout=deadline, **kwargs)
        except grpc.aio.AioRpcError as exc:
            raise CheckFailed(rule, f"OK for {what}",
                              f"{exc.code().name}: {exc.details()}") from None

    async def code(self, rpc: Callable[..., Awaitable[Any]], request: Any, *,
                   deadline: float = CALL_TIMEOUT, **kwargs: Any) -> tuple[grpc.StatusCode, str]:
        try:
            await rpc(request, timeout=deadline, **kwargs)
        except grpc.aio.AioRpcError as exc:
            return exc.code(), exc.details() or ""
        return grpc.StatusCode.OK, ""

    async def expect_code(self, rpc: Callable[..., Awaitable[Any]], request: Any,
                          expected: grpc.StatusCode, rule: str, what: str,
                          naming: tuple[str, ...] = (), **kwargs: Any) -> str:
        """Calls and requires the exact status code; `naming`: words the error message must
        contain (the field, id or limit at fault). Returns the error message."""
        got, details = await self.code(rpc, request, **kwargs)
        if got != expected:
            shown = "OK" if got == grpc.StatusCode.OK else f"{got.name}: {details}"
            raise CheckFailed(rule, f"{expected.name} for {what}", shown)
        missing = [word for word in naming if word.lower() not in details.lower()]
        if missing:
            raise CheckFailed(rule, f"{expected.name} whose message names "
                              f"{' and '.join(repr(w) for w in missing)} ({what})",
                              f"{got.name}: {details!r}")
        return details

    # -- entities ---------------------------------------------------------------------------
    def types(self, *kinds: str, media: str | None = None) -> list[EntityTypeSpec]:
        return [spec for spec in self.manifest.entity_types
                if (not kinds or spec.kind in kinds)
                and (media is None or media in spec.media_types)]

    def creatable(self, *kinds: str) -> list[tuple[EntityTypeSpec, dict[str, str]]]:
        """Types (of these kinds) with a valid config the suite can build."""
        found = []
        for spec in self.types(*kinds):
            config = configs.valid_config(self.manifest, spec, self.suite.scratch)
            if config is not None:
                found.append((spec, config))
        return found

    def any_creatable(self, *kinds: str) -> tuple[EntityTypeSpec, dict[str, str]]:
        found = self.creatable(*kinds)
        if not found:
            what = f"of kind {'/'.join(kinds)}" if kinds else "at all"
            reasons = [configs.missing_config_reason(s) for s in self.types(*kinds)]
            raise Skipped(reasons[0] if reasons else f"the module offers no entity type {what}")
        return found[0]

    async def create_entity(self, spec: EntityTypeSpec, config: dict[str, str] | None = None,
                            *, media: str | None = None, entity_id: str = "",
                            request_id: str = "", name: str = "",
                            rule: str = "N-3") -> entity_pb2.Entity:
        """Creates a tracked entity with a valid config; failing to is a finding of `rule`."""
        if config is None:
            config = configs.valid_config(self.manifest, spec, self.suite.scratch)
            if config is None:
                raise Skipped(configs.missing_config_reason(spec))
        media = media or spec.media_types[0]
        request = entity_pb2.CreateEntityRequest(
            entity_type=spec.type, config=config, media_type=MEDIA[media],
            name=name or self.tracker.name(spec.type), entity_id=entity_id,
            request_id=request_id)
        response = await self.ok(self.entities.CreateEntity, request, rule,
                                 f"CreateEntity of type {spec.type!r} ({media}) with a valid "
                                 f"config {config}")
        entity_id = entity_body(response.entity).id
        self.tracker.add("entity", entity_id, self.check.name)
        return response.entity

    async def list_all(self, rule: str = "N-8") -> list[entity_pb2.Entity]:
        found: list[entity_pb2.Entity] = []
        token = ""
        for _ in range(10_000):
            response = await self.ok(self.entities.ListEntities, entity_pb2.ListEntitiesRequest(
                page=common_pb2.PageRequest(page_size=100, page_token=token)), rule,
                "ListEntities")
            found.extend(response.entities)
            token = response.next_page_token
            if not token:
                return found
        raise CheckFailed(rule, "an empty next_page_token on the last page",
                          "more than 10,000 pages")

    # -- more instances (launch mode) -------------------------------------------------------
    @contextlib.asynccontextmanager
    async def launch(self, **kwargs: Any) -> AsyncIterator[LaunchedModule]:
        """Starts another instance of the module (stopped when the block ends)."""
        if not self.suite.target.launched:
            raise Skipped("needs the suite to start the module")
        kwargs.setdefault("orchestrator", self.suite.events.address if self.suite.events else "")
        kwargs.setdefault("token", self.suite.target.token)
        made_before = list(self.tracker.resources)
        try:
            async with launch(self.manifest, **kwargs) as process:
                yield process
        finally:  # what was made in that instance went with it
            self.tracker.resources = [r for r in self.tracker.resources
                                      if r in made_before or r.check != self.check.name]
