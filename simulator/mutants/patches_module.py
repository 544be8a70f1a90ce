"""Mutant patches of the module process: start-up, health, shutdown, serving (H and S rules)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from types import SimpleNamespace
from typing import Any

import grpc

from mediagrid.process import free_port
from mediagrid.sdk import health as health_mod
from mediagrid.sdk import server as server_mod
from mediagrid.sdk import state as state_mod
from mediagrid.sdk.errors import Unavailable
from mediagrid.sdk.runtime import ModuleRuntime
from mediagrid.sdk.sender import GrpcReportSender
from mediagrid.sdk.servicers import ModuleServicer
from mediagrid.sdk.settings import Settings
from mediagrid.sdk.state import ModuleState
from mediagrid.v1 import common_pb2, module_pb2

_from_env = Settings.from_env


def _settings(**changes: Any) -> None:
    def from_env(cls: type[Settings], env: Any = None) -> Settings:
        return dataclasses.replace(_from_env(env), **changes)
    Settings.from_env = classmethod(from_env)  # type: ignore[method-assign,assignment]


def ignores_bind_host() -> None:
    _settings(bind_host="127.0.0.1")


def binds_all_interfaces() -> None:
    _settings(bind_host="0.0.0.0")


def port_in_use_exits_1() -> None:
    start = server_mod.ModuleServer.start

    async def patched(self: server_mod.ModuleServer) -> None:
        try:
            await start(self)
        except server_mod.PortInUse as exc:
            raise RuntimeError(f"could not bind: {exc}") from None  # serve() exits 1
    server_mod.ModuleServer.start = patched  # type: ignore[method-assign]


def bad_port_uses_default() -> None:
    def from_env(cls: type[Settings], env: Any = None) -> Settings:
        import os

        env = dict(os.environ if env is None else env)
        raw = env.get("GRPC_PORT", "")
        if not raw.isdigit() or not 1 <= int(raw) <= 65535:
            env["GRPC_PORT"] = str(free_port())
        return _from_env(env)
    Settings.from_env = classmethod(from_env)  # type: ignore[method-assign,assignment]


def no_reflection() -> None:
    server_mod.reflection = SimpleNamespace(  # type: ignore[assignment]
        SERVICE_NAME="grpc.reflection.v1alpha.ServerReflection",
        enable_server_reflection=lambda names, server: None)


def health_blocked_while_busy() -> None:
    check = ModuleServicer.HealthCheck

    async def patched(self: ModuleServicer, request: Any, context: Any) -> Any:
        async with self.rt.lock:  # mutant: health waits on entity work (H-5)
            return await check(self, request, context)
    ModuleServicer.HealthCheck = patched  # type: ignore[method-assign]
    from mediagrid.sdk.entity import Entity

    async def slow_create(self: Entity) -> None:
        await asyncio.sleep(0.4)
    Entity.create = slow_create  # type: ignore[method-assign]


def instance_id_reused() -> None:
    fixed = uuid.UUID(int=0x5EED)
    state_mod.uuid = SimpleNamespace(uuid4=lambda: fixed)  # type: ignore[assignment]


def health_v1_always_serving() -> None:
    def serving_status(self: health_mod.ModuleHealth, service: str) -> int:
        return health_mod.SERVING if service in self._services else health_mod.SERVICE_UNKNOWN
    health_mod.ModuleHealth.serving_status = serving_status  # type: ignore[method-assign]


def shutdown_ignored() -> None:
    server_mod.ModuleServer.request_shutdown = (  # type: ignore[method-assign]
        lambda self, grace=5.0, reason="": True)


def sigterm_exits_1() -> None:
    """Stops cleanly on Shutdown, but a stop asked by SIGTERM ends with exit code 1."""
    request, serve_async = server_mod.ModuleServer.request_shutdown, server_mod.serve_async
    reasons: list[str] = []

    def noted(self: server_mod.ModuleServer, grace: float = 5.0, reason: str = "") -> bool:
        reasons.append(reason)
        return request(self, grace, reason)

    async def patched(module: Any, env: Any = None) -> int:
        code = await serve_async(module, env)
        return 1 if code == 0 and "SIGTERM" in reasons else code
    server_mod.ModuleServer.request_shutdown = noted  # type: ignore[method-assign]
    server_mod.serve_async = patched  # type: ignore[assignment]


def starting_after_ready() -> None:
    request = server_mod.ModuleServer.request_shutdown

    def patched(self: server_mod.ModuleServer, grace: float = 5.0, reason: str = "") -> bool:
        status = self.runtime.status
        if status.state is ModuleState.READY:
            status.state = ModuleState.STARTING  # mutant: READY -> STARTING (H-9)
            asyncio.get_running_loop().call_later(0.5, request, self, grace, reason)
            return True
        return request(self, grace, reason)
    server_mod.ModuleServer.request_shutdown = patched  # type: ignore[method-assign]


def serves_while_stopping() -> None:
    def require_ready(self: ModuleRuntime) -> None:
        if self.status.state is ModuleState.STARTING:
            raise Unavailable("starting")  # mutant: STOPPING serves on (H-10)
    ModuleRuntime.require_ready = require_ready  # type: ignore[method-assign]
    teardown = ModuleRuntime.teardown

    async def slow(self: ModuleRuntime) -> None:
        await asyncio.sleep(1.0)
        await teardown(self)
    ModuleRuntime.teardown = slow  # type: ignore[method-assign]


def serves_while_starting() -> None:
    ModuleRuntime.require_ready = lambda self: None  # type: ignore[method-assign]
    start = ModuleRuntime.start

    async def slow(self: ModuleRuntime) -> None:
        await asyncio.sleep(1.5)
        await start(self)
    ModuleRuntime.start = slow  # type: ignore[method-assign]


def undeclared_entity_type() -> None:
    init = ModuleRuntime.__init__

    def patched(self: ModuleRuntime, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.entity_type_infos.append(module_pb2.EntityTypeInfo(
            type="bonus", kind=common_pb2.ENTITY_KIND_SOURCE))
    ModuleRuntime.__init__ = patched  # type: ignore[method-assign]


def token_not_checked() -> None:
    class Open(grpc.aio.ServerInterceptor):
        def __init__(self, token: str) -> None:
            pass

        async def intercept_service(self, continuation: Any, details: Any) -> Any:
            return await continuation(details)
    server_mod.TokenInterceptor = Open  # type: ignore[assignment,misc]


def reports_without_token() -> None:
    init = GrpcReportSender.__init__

    def patched(self: GrpcReportSender, address: str, **kwargs: Any) -> None:
        init(self, address, **{**kwargs, "token": ""})  # mutant: S-3
    GrpcReportSender.__init__ = patched  # type: ignore[method-assign]


def no_message_limit() -> None:
    real = grpc.aio.server

    def server(*args: Any, options: Any = (), **kwargs: Any) -> Any:
        options = [*options, ("grpc.max_receive_message_length", 64 * 1024 * 1024)]
        return real(*args, options=options, **kwargs)
    names = {k: getattr(grpc, k) for k in dir(grpc) if not k.startswith("__")}
    names["aio"] = SimpleNamespace(server=server)
    server_mod.grpc = SimpleNamespace(**names)  # type: ignore[assignment]
