"""Bugs a sampled audit planted in the SDK that no test caught; each test here fails with its
bug put back (issue: the SDK under the conformance suite). The suite catches the same bugs
over the wire in SDK modules (tests/conformance)."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2

from mediagrid import sdk
from mediagrid.sdk.health import ModuleHealth
from mediagrid.sdk.state import ModuleState, ModuleStatusTracker
from mediagrid.v1 import common_pb2, config_pb2, event_pb2, module_pb2

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.mark.parametrize("kind", [event_pb2.EVENT_TYPE_INFO, event_pb2.EVENT_TYPE_ERROR,
                                  event_pb2.EVENT_TYPE_WARNING])
def test_e6_e7_an_event_about_an_entity_outside_its_life_is_refused(kind: int) -> None:
    reporter = sdk.EventReporter("mod", "inst")
    with pytest.raises(sdk.ReportOrderError, match="E-6, E-7"):
        reporter.event(kind, "too early", entity_id="cam-1")  # before ENTITY_CREATED
    reporter.event(event_pb2.EVENT_TYPE_ENTITY_CREATED, entity_id="cam-1")
    reporter.event(kind, "in its life", entity_id="cam-1")
    reporter.event(event_pb2.EVENT_TYPE_ENTITY_DESTROYED, entity_id="cam-1")
    with pytest.raises(sdk.ReportOrderError, match="E-6, E-7"):
        reporter.event(kind, "too late", entity_id="cam-1")  # after ENTITY_DESTROYED
    assert reporter.sequence == 3  # the refused ones were never numbered


def test_h7_not_serving_while_error_and_watch_says_so() -> None:
    async def scenario() -> None:
        status = ModuleStatusTracker()
        health = ModuleHealth(status, ("", "mediagrid.v1.ModuleService"))
        seen: list[int] = []

        async def follow() -> None:
            async for answer in health.Watch(health_pb2.HealthCheckRequest(service=""), None):
                seen.append(answer.status)
        watcher = asyncio.create_task(follow())
        await asyncio.sleep(0.05)  # the watch has sent the STARTING status
        status.transition(ModuleState.READY)
        await asyncio.sleep(0.05)
        assert health.serving_status("") == SERVING
        status.transition(ModuleState.ERROR, "camera gone")
        await asyncio.sleep(0.05)
        for service in ("", "mediagrid.v1.ModuleService"):
            assert health.serving_status(service) == NOT_SERVING  # H-7: not READY
        watcher.cancel()
        assert seen == [NOT_SERVING, SERVING, NOT_SERVING]

    asyncio.run(scenario())


def test_error_to_ready_is_healthy_again_with_no_old_message() -> None:
    status = ModuleStatusTracker()
    status.transition(ModuleState.READY)
    status.transition(ModuleState.ERROR, "camera gone")
    assert (status.health, status.error_message) == (sdk.Health.UNHEALTHY, "camera gone")
    status.transition(ModuleState.READY)
    answer = module_pb2.ModuleStatus()
    status.to_proto(answer)
    assert answer.state == module_pb2.MODULE_STATE_READY
    assert answer.health == common_pb2.HEALTH_STATUS_HEALTHY  # H-25, not the old UNHEALTHY
    assert answer.error_message == ""


def test_c11_config_calls_unavailable_unless_ready_or_error(make_harness) -> None:  # type: ignore[no-untyped-def]
    starting = make_harness(configurable=True, ready=False)
    calls = [("GetConfig", config_pb2.GetConfigRequest()),
             ("ApplyConfig", config_pb2.ApplyConfigRequest(config={"level": "high"})),
             ("GetConfigSchema", config_pb2.GetConfigSchemaRequest())]
    for method, request in calls:
        starting.fails("ConfigurableModuleService", method, request,
                       grpc.StatusCode.UNAVAILABLE)
    ready = make_harness(configurable=True)
    ready.rt.status.transition(ModuleState.ERROR, "needs a configuration")
    for method, request in calls:  # in ERROR a configuration may be what recovers it
        ready.ok("ConfigurableModuleService", method, request)
    ready.rt.begin_shutdown()
    for method, request in calls:
        ready.fails("ConfigurableModuleService", method, request, grpc.StatusCode.UNAVAILABLE)
