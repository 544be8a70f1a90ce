"""Rule H-7 on a real server embedded in the test: grpc.health.v1 says SERVING exactly while
the module is READY — NOT_SERVING while STARTING and while STOPPING (its entities still being
torn down) — and Watch sends each change. Also H-4 for a configurable module."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from mediagrid import sdk
from mediagrid.sdk.testing import LoopThread
from mediagrid.v1 import entity_pb2, entity_pb2_grpc, module_pb2, module_pb2_grpc
from tests.support import free_port

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


def gated_module(started: asyncio.Event, destroyed: asyncio.Event) -> sdk.Module:
    module = sdk.Module("gated", config_schema={"type": "object"})

    @module.on_startup
    async def wait_for_test(runtime: sdk.ModuleRuntime) -> None:
        await started.wait()

    @module.entity(sdk.EntityType("held", kind="source", media_types=["video"]))
    class Held(sdk.Entity):
        async def destroy(self) -> None:
            await destroyed.wait()  # teardown stays in STOPPING until the test lets go

    return module


def watch(stub: health_pb2_grpc.HealthStub, service: str) -> queue.Queue[int]:
    seen: queue.Queue[int] = queue.Queue()

    def pump(stream: Iterator[health_pb2.HealthCheckResponse]) -> None:
        try:
            for reply in stream:
                seen.put(reply.status)
        except grpc.RpcError:
            pass  # the server stopped

    stream = stub.Watch(health_pb2.HealthCheckRequest(service=service), timeout=30)
    threading.Thread(target=pump, args=(stream,), daemon=True).start()
    return seen


def test_h7_serving_exactly_while_ready_and_watch_sends_each_change() -> None:
    with LoopThread() as loop:
        started, destroyed = asyncio.Event(), asyncio.Event()

        async def build() -> sdk.ModuleServer:  # grpc.aio objects belong to the loop thread
            server = sdk.ModuleServer(gated_module(started, destroyed),
                                      sdk.Settings(port=free_port()))
            await server.start()
            return server

        server = loop.run(build())
        running = asyncio.run_coroutine_threadsafe(server.run(), loop.loop)
        try:
            with grpc.insecure_channel(server.settings.address) as channel:
                health = health_pb2_grpc.HealthStub(channel)
                module = module_pb2_grpc.ModuleServiceStub(channel)

                def now() -> tuple[int, int, int]:
                    """(module state, Check(""), Check(ModuleService)), read together."""
                    state = module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=5)
                    checks = [
                        health.Check(health_pb2.HealthCheckRequest(service=s), timeout=5).status
                        for s in ("", "mediagrid.v1.ModuleService")]
                    return (state.status.state, *checks)  # type: ignore[return-value]

                watches = [watch(health, s) for s in ("", "mediagrid.v1.ModuleService")]
                assert [w.get(timeout=5) for w in watches] == [NOT_SERVING, NOT_SERVING]
                assert now() == (module_pb2.MODULE_STATE_STARTING, NOT_SERVING, NOT_SERVING)
                with pytest.raises(grpc.RpcError) as unknown:
                    health.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=5)
                assert unknown.value.code() is grpc.StatusCode.NOT_FOUND
                assert watch(health, "nope").get(timeout=5) == SERVICE_UNKNOWN  # stream stays

                loop.loop.call_soon_threadsafe(started.set)
                assert [w.get(timeout=5) for w in watches] == [SERVING, SERVING]
                assert now() == (module_pb2.MODULE_STATE_READY, SERVING, SERVING)
                services = set(ProtoReflectionDescriptorDatabase(channel).get_services())
                assert "mediagrid.v1.ConfigurableModuleService" in services  # H-4

                entity_pb2_grpc.EntityServiceStub(channel).CreateEntity(
                    entity_pb2.CreateEntityRequest(entity_type="held"), timeout=5)
                assert module.Shutdown(module_pb2.ShutdownRequest(), timeout=5).initiated
                assert [w.get(timeout=5) for w in watches] == [NOT_SERVING, NOT_SERVING]
                assert now() == (module_pb2.MODULE_STATE_STOPPING, NOT_SERVING, NOT_SERVING)
                assert not module.Shutdown(module_pb2.ShutdownRequest(), timeout=5).initiated
                assert not running.done()  # still tearing down: the entity's destroy waits
        finally:
            loop.loop.call_soon_threadsafe(destroyed.set)
            running.result(timeout=10)
