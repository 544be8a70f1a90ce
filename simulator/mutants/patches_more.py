"""Mutant patches for the contract 1.1 rules (H-22..H-26, N-13..N-20, P-15..P-24, E-19..E-23,
C-9..C-11, C-16, S-8)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from typing import Any

import grpc

from mediagrid.sdk import limits
from mediagrid.sdk import pipeline as pipeline_mod
from mediagrid.sdk import types as types_mod
from mediagrid.sdk.auth import TokenInterceptor
from mediagrid.sdk.config import ModuleConfig
from mediagrid.sdk.errors import AlreadyExists, InvalidArgument, NotFound
from mediagrid.sdk.flows import STOPPED, FlowManager
from mediagrid.sdk.pipeline import PipelineManager
from mediagrid.sdk.reporter import EventReporter
from mediagrid.sdk.runtime import EntityManager, ModuleRuntime
from mediagrid.sdk.servicers import EntityServicer, ModuleServicer
from mediagrid.sdk.settings import Settings
from mediagrid.sdk.state import ModuleState, ModuleStatusTracker
from mediagrid.v1 import common_pb2, event_pb2

T = event_pb2
_from_env = Settings.from_env


def _env_fix(fix: Any) -> None:
    def from_env(cls: type[Settings], env: Any = None) -> Settings:
        env = dict(os.environ if env is None else env)
        fix(env)
        return _from_env(env)
    Settings.from_env = classmethod(from_env)  # type: ignore[method-assign,assignment]


def _answer(method: str, change: Any) -> None:
    original = getattr(EntityServicer, method)

    async def patched(self: EntityServicer, request: Any, context: Any) -> Any:
        response = await original(self, request, context)
        if response is not None:
            change(response)
        return response
    setattr(EntityServicer, method, patched)


def _body(entity: Any) -> Any:
    return getattr(entity, entity.WhichOneof("entity"))


# -- H ---------------------------------------------------------------------------------------
def shutdown_refused_while_stopping() -> None:
    shutdown = ModuleServicer.Shutdown

    async def patched(self: ModuleServicer, request: Any, context: Any) -> Any:
        if self.rt.status.state is ModuleState.STOPPING:  # mutant: H-22
            await context.abort(grpc.StatusCode.UNAVAILABLE, "stopping")
        return await shutdown(self, request, context)
    ModuleServicer.Shutdown = patched  # type: ignore[method-assign]
    _slow_teardown()


def module_id_from_manifest() -> None:
    def fix(env: dict[str, str]) -> None:
        env["MEDIAGRID_MODULE_ID"] = "mutant-module-id-from-manifest"  # mutant: H-23
    _env_fix(fix)


def bad_orchestrator_address_ignored() -> None:
    def fix(env: dict[str, str]) -> None:
        address = env.get("MEDIAGRID_ORCHESTRATOR_ADDRESS", "")
        host, _, port = address.rpartition(":")
        if address and not (host and port.isdigit() and 0 < int(port) < 65536):
            env["MEDIAGRID_ORCHESTRATOR_ADDRESS"] = ""  # mutant: H-24, runs standalone
        for name in ("MEDIAGRID_TLS_CERT_FILE", "MEDIAGRID_TLS_KEY_FILE"):
            if env.get(name) and not os.path.exists(env[name]):
                env.pop(name)
    _env_fix(fix)


def health_unspecified() -> None:
    to_proto = ModuleStatusTracker.to_proto

    def patched(self: ModuleStatusTracker, out: Any) -> None:
        to_proto(self, out)
        out.health = common_pb2.HEALTH_STATUS_UNSPECIFIED  # mutant: H-25
    ModuleStatusTracker.to_proto = patched  # type: ignore[method-assign]


def shutdown_skips_reports() -> None:
    async def teardown(self: ModuleRuntime) -> None:
        return None  # mutant: exits without stopping flows or destroying entities (H-26)
    ModuleRuntime.teardown = teardown  # type: ignore[method-assign]


# -- N ---------------------------------------------------------------------------------------
def answers_created() -> None:
    _answer("CreateEntity", lambda r: setattr(_body(r.entity).status, "state",
                                              common_pb2.ENTITY_STATE_CREATED))


def entity_not_active() -> None:
    def change(response: Any) -> None:
        if response.status.state == common_pb2.ENTITY_STATE_ACTIVE:
            response.status.state = common_pb2.ENTITY_STATE_CONFIGURED  # mutant: N-14
    _answer("GetEntityStatus", change)


def media_type_field_unset() -> None:
    _answer("CreateEntity", lambda r: _body(r.entity).ClearField("media_type"))


def repeat_ignores_arguments() -> None:
    repeat = EntityManager._repeat

    def patched(self: EntityManager, req: Any) -> Any:
        entity, _ = self._by_request[req.request_id]
        if entity.state.name != "DESTROYED":
            return entity  # mutant: any arguments get the first entity (N-16)
        return repeat(self, req)
    EntityManager._repeat = patched  # type: ignore[method-assign]


def malformed_id_not_found() -> None:
    destroy = EntityManager.destroy

    async def patched(self: EntityManager, entity_id: str) -> bool:
        try:
            return await destroy(self, entity_id)
        except InvalidArgument:
            raise NotFound(f"entity {entity_id!r} does not exist") from None  # mutant: N-17
    EntityManager.destroy = patched  # type: ignore[method-assign]


def ids_not_reusable() -> None:
    create = EntityManager.create

    async def patched(self: EntityManager, req: Any) -> Any:
        if req.entity_id and self.registry.existed(req.entity_id):
            raise AlreadyExists(f"entity_id {req.entity_id!r} was used before")  # N-18
        return await create(self, req)
    EntityManager.create = patched  # type: ignore[method-assign]


def negative_page_size_accepted() -> None:
    page_size = limits.page_size
    limits.page_size = lambda requested: page_size(max(requested, 0))  # type: ignore[assignment]


def redaction_written_back() -> None:
    types_mod.keep_secrets = lambda changes, in_force, schema, field_name="config": dict(
        changes)  # mutant: "***" is stored as the value (N-20)
    import mediagrid.sdk.runtime as runtime_mod

    runtime_mod.keep_secrets = types_mod.keep_secrets  # type: ignore[attr-defined]


# -- P ---------------------------------------------------------------------------------------
def source_transcodes() -> None:
    check = pipeline_mod.check_codecs

    def patched(quality: Any, media_type: Any, source: Any, target: Any, transport: str) -> None:
        check(quality, media_type, None, target, transport)  # mutant: the source side unchecked
    pipeline_mod.check_codecs = patched


def endpoint_url_unchecked() -> None:
    pipeline_mod.check_endpoint_url = lambda endpoint, transport: None  # mutant: P-16


def endpoint_without_format() -> None:
    target = pipeline_mod.target_endpoint

    def patched(*args: Any, **kwargs: Any) -> Any:
        return dataclasses.replace(target(*args, **kwargs), format=None)  # mutant: P-17
    pipeline_mod.target_endpoint = patched


def module_ids_compared() -> None:
    key = pipeline_mod.request_key

    def patched(req: Any, role: Any, transport: str) -> tuple:
        return (*key(req, role, transport), req.source_module_id, req.target_module_id)
    pipeline_mod.request_key = patched  # mutant: P-18


def duplicate_connections_accepted() -> None:
    start = FlowManager.start_flow

    async def patched(self: FlowManager, flow_id: str, name: str, ids: list[str]) -> Any:
        return await start(self, flow_id, name, list(dict.fromkeys(ids)))  # mutant: P-19
    FlowManager.start_flow = patched  # type: ignore[method-assign]


def adjust_stopped_flow_ok() -> None:
    adjust = FlowManager.adjust_quality

    async def patched(self: FlowManager, flow_id: str, connection_id: str, quality: Any) -> Any:
        flow = self.flows.get(flow_id)
        if flow is not None and flow.state == STOPPED:
            return []  # mutant: P-20
        return await adjust(self, flow_id, connection_id, quality)
    FlowManager.adjust_quality = patched  # type: ignore[method-assign]


# -- E ---------------------------------------------------------------------------------------
def events_for_repeats() -> None:
    connect = PipelineManager.connect

    async def patched(self: PipelineManager, req: Any) -> Any:
        repeated = req.connection_id in self.links
        link = await connect(self, req)
        if repeated:  # mutant: a second CONNECTION_CREATED for a repeat (E-19)
            self.rt.reporter.event(T.EVENT_TYPE_CONNECTION_CREATED, "again",
                                   entity_id=link.reporting_entity.id, connection_id=link.id,
                                   details={"source_entity_id": link.source_entity_id,
                                            "target_entity_id": link.target_entity_id})
        return link
    PipelineManager.connect = patched  # type: ignore[method-assign]


def no_status_updates() -> None:
    EventReporter.status = lambda self, *args, **kwargs: self._sequence  # type: ignore[method-assign]


def connection_events_bare() -> None:
    event = EventReporter.event

    def patched(self: EventReporter, type: int, message: str = "", **kw: Any) -> int:
        if type in (T.EVENT_TYPE_CONNECTION_CREATED, T.EVENT_TYPE_CONNECTION_REMOVED):
            kw["details"] = {}  # mutant: E-21
        return event(self, type, message, **kw)
    EventReporter.event = patched  # type: ignore[method-assign]


def drops_undeclared() -> None:
    make = EventReporter._make_event

    def patched(self: EventReporter, type: int, message: str, *args: Any) -> int:
        if type == T.EVENT_TYPE_WARNING and "dropped" in message:
            return self._sequence  # mutant: the drop is never declared (E-22)
        return make(self, type, message, *args)
    EventReporter._make_event = patched  # type: ignore[method-assign]


def retries_invalid_argument() -> None:
    from mediagrid.sdk.sender import GrpcReportSender

    send = GrpcReportSender.send

    async def patched(self: GrpcReportSender, reports: list[Any]) -> None:
        try:
            await send(self, reports)
        except Exception as exc:  # mutant: every failure looks retryable (E-23)
            raise ConnectionError(str(exc)) from None
    GrpcReportSender.send = patched  # type: ignore[method-assign]


# -- C, S ------------------------------------------------------------------------------------
def config_not_from_defaults() -> None:
    init = ModuleConfig.__init__

    def patched(self: ModuleConfig, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.values = {}  # mutant: C-9
    ModuleConfig.__init__ = patched  # type: ignore[method-assign]


def revision_on_no_change() -> None:
    apply = ModuleConfig.apply

    async def patched(self: ModuleConfig, changes: dict[str, str], **kw: Any) -> Any:
        values, revision, changed = await apply(self, changes, **kw)
        if not kw.get("validate_only") and not changed:
            self.revision += 1  # mutant: a new revision though nothing changed (C-10)
            return values, self.revision, True
        return values, revision, changed
    ModuleConfig.apply = patched  # type: ignore[method-assign]


def config_while_stopping() -> None:
    ModuleRuntime.require_configurable = lambda self: None  # type: ignore[method-assign]
    _slow_teardown()


def _slow_teardown() -> None:
    teardown = ModuleRuntime.teardown

    async def slow(self: ModuleRuntime) -> None:
        await asyncio.sleep(1.0)  # a teardown that takes a while: STOPPING lasts
        await teardown(self)
    ModuleRuntime.teardown = slow  # type: ignore[method-assign]


def entity_types_reversed() -> None:
    init = ModuleRuntime.__init__

    def patched(self: ModuleRuntime, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.entity_type_infos.reverse()  # mutant: not in module.yaml's order (C-16)
    ModuleRuntime.__init__ = patched  # type: ignore[method-assign]


def bearer_case_sensitive() -> None:
    admits = TokenInterceptor.admits

    def patched(self: TokenInterceptor, metadata: Any) -> bool:
        given = [v for k, v in metadata or () if k == "authorization"]
        if given and not str(given[0]).startswith("Bearer "):
            return False  # mutant: S-8
        return admits(self, metadata)
    TokenInterceptor.admits = patched  # type: ignore[method-assign]
