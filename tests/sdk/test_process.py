"""The example module as a real process on a real port: the module process contract."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from mediagrid.v1 import (
    common_pb2,
    entity_pb2,
    entity_pb2_grpc,
    module_pb2,
    module_pb2_grpc,
    pipeline_pb2,
    pipeline_pb2_grpc,
)
from tests.sdk.conftest import HELLO

SLOW = Path(__file__).with_name("slow_module.py")
VIDEO = common_pb2.MEDIA_TYPE_VIDEO


class Stubs:
    def __init__(self, address: str, token: str = "") -> None:
        self.channel = grpc.insecure_channel(address)
        self.md = (("authorization", f"Bearer {token}"),) if token else None
        self.module = module_pb2_grpc.ModuleServiceStub(self.channel)
        self.entity = entity_pb2_grpc.EntityServiceStub(self.channel)
        self.pipeline = pipeline_pb2_grpc.PipelineServiceStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def create(self, entity_type: str, **kw: Any) -> str:
        reply = self.entity.CreateEntity(
            entity_pb2.CreateEntityRequest(entity_type=entity_type, **kw), timeout=5,
            metadata=self.md)
        return getattr(reply.entity, reply.entity.WhichOneof("entity")).id

    def wait_frames(self, flow_id: str, frames: int, timeout: float = 20) -> pipeline_pb2.Flow:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            flow = self.pipeline.GetFlowStatus(
                pipeline_pb2.GetFlowStatusRequest(flow_id=flow_id), timeout=5).flow
            assert flow.status.state != pipeline_pb2.FLOW_STATE_ERROR, flow.status.error_message
            if flow.metrics.frames >= frames and flow.metrics.fps > 0:
                return flow
            time.sleep(0.1)
        raise AssertionError(f"flow {flow_id} did not reach {frames} frames: {flow}")


def ffmpeg_children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"ffmpeg" in cmd:
                found.append(int(entry.name))
    return found


def test_health_reflection_and_a_local_flow_that_moves_media(run_module) -> None:  # type: ignore[no-untyped-def]
    module = run_module()
    s = Stubs(module.address)
    for service in ("", "mediagrid.v1.ModuleService"):
        reply = s.health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    status = s.module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=5)
    assert status.status.state == module_pb2.MODULE_STATE_READY
    assert uuid.UUID(status.status.instance_id)
    assert status.module_id == "hello" and [t.type for t in status.entity_types] == [
        "testsrc", "null"]
    reflected = ProtoReflectionDescriptorDatabase(s.channel)
    services = set(reflected.get_services())
    assert services >= {
        "mediagrid.v1.ModuleService", "mediagrid.v1.EntityService",
        "mediagrid.v1.PipelineService", "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    # H-4: everything resolves through reflection alone, dependencies included, as
    # `grpcurl describe` does it: a fresh pool knows nothing but what the module serves.
    pool = descriptor_pool.DescriptorPool(reflected)
    for name in services:
        for method in pool.FindServiceByName(name).methods:
            assert method.input_type.full_name and method.output_type.full_name
    status = pool.FindMessageTypeByName("mediagrid.v1.HealthCheckResponse").fields_by_name[
        "status"].message_type
    assert status.fields_by_name["last_heartbeat"].message_type.full_name == \
        "google.protobuf.Timestamp"
    src, sink = s.create("testsrc", config={"rate": "50"}), s.create("null")
    local = s.pipeline.ConnectEntities(pipeline_pb2.ConnectEntitiesRequest(
        connection_id="c1", source_entity_id=src, target_entity_id=sink, media_type=VIDEO,
        role=pipeline_pb2.CONNECTION_ROLE_LOCAL), timeout=5).connection
    assert local.transport_protocol == "local" and not local.HasField("endpoint")  # P-16
    s.pipeline.StartFlow(pipeline_pb2.StartFlowRequest(flow_id="f1", connection_ids=["c1"]),
                         timeout=10)
    flow = s.wait_frames("f1", 30)
    assert flow.metrics.fps > 0
    assert len(ffmpeg_children(module.process.pid)) == 2  # the source and the sink
    s.pipeline.StopFlow(pipeline_pb2.StopFlowRequest(flow_id="f1"), timeout=10)
    assert ffmpeg_children(module.process.pid) == []  # stop killed ffmpeg


def test_cross_module_flow_over_udp(run_module) -> None:  # type: ignore[no-untyped-def]
    a, b = Stubs(run_module().address), Stubs(run_module().address)
    src, sink = a.create("testsrc", config={"rate": "50"}), b.create("null")
    request = pipeline_pb2.ConnectEntitiesRequest(
        connection_id="x1", source_entity_id=src, target_entity_id=sink, media_type=VIDEO,
        role=pipeline_pb2.CONNECTION_ROLE_TARGET, source_module_id="a")
    endpoint = b.pipeline.ConnectEntities(request, timeout=5).connection.endpoint
    assert endpoint.url.startswith("udp://127.0.0.1:")
    request.role, request.target_module_id = pipeline_pb2.CONNECTION_ROLE_SOURCE, "b"
    request.source_module_id = ""
    request.endpoint.CopyFrom(endpoint)
    a.pipeline.ConnectEntities(request, timeout=5)
    start = pipeline_pb2.StartFlowRequest(flow_id="fx", connection_ids=["x1"])
    b.pipeline.StartFlow(start, timeout=10)
    a.pipeline.StartFlow(start, timeout=10)
    assert b.wait_frames("fx", 25).metrics.frames >= 25  # decoded by the sink's ffmpeg
    port = int(endpoint.url.split(":")[2].split("?")[0])
    assert udp_binds(port) == ["127.0.0.1"]  # S-10: the listener binds the bind host only


def udp_binds(port: int) -> list[str]:
    """The local addresses UDP sockets on `port` are bound to (from /proc/net/udp)."""
    found = []
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        address, hex_port = line.split()[1].split(":")
        if int(hex_port, 16) == port:
            found.append(".".join(str(b) for b in reversed(bytes.fromhex(address))))
    return found


def test_healthcheck_answers_while_an_entity_hook_is_busy(run_module) -> None:  # type: ignore[no-untyped-def]
    s = Stubs(run_module(SLOW).address)
    busy = s.entity.CreateEntity.future(entity_pb2.CreateEntityRequest(
        entity_type="sleepy", config={"seconds": "3"}), timeout=20)
    time.sleep(0.2)
    for _ in range(5):
        reply = s.module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=1.5)
        assert reply.status.state == module_pb2.MODULE_STATE_READY
    assert not busy.done()  # HealthCheck answered while the hook was still sleeping
    assert busy.result().created


def test_shutdown_rpc_exits_0_within_its_grace(run_module) -> None:  # type: ignore[no-untyped-def]
    module = run_module()
    s = Stubs(module.address)
    s.create("testsrc")
    request = module_pb2.ShutdownRequest(reason="test")
    request.grace_period.FromSeconds(3)
    assert s.module.Shutdown(request, timeout=5).initiated is True
    assert module.process.wait(timeout=3 + 1) == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_h8_a_signal_during_starting_exits_0(run_module, sig: signal.Signals) -> None:  # type: ignore[no-untyped-def]
    module = run_module(SLOW, extra_env={"SLOW_STARTUP_SECONDS": "3600"}, wait_ready=False)
    s = Stubs(module.address)
    deadline = time.monotonic() + 20
    while True:  # wait until it serves, STARTING
        try:
            reply = s.module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=1)
            break
        except grpc.RpcError:
            assert time.monotonic() < deadline and module.process.poll() is None
            time.sleep(0.05)
    assert reply.status.state == module_pb2.MODULE_STATE_STARTING
    os.kill(module.process.pid, sig)
    assert module.process.wait(timeout=10) == 0  # not 1, not killed by the signal


def test_h8_shutdown_exits_0_even_when_an_entity_will_not_stop(run_module) -> None:  # type: ignore[no-untyped-def]
    module = run_module(SLOW)
    s = Stubs(module.address)
    s.create("stuck")
    request = module_pb2.ShutdownRequest()
    request.grace_period.FromSeconds(1)
    assert s.module.Shutdown(request, timeout=5).initiated is True
    assert module.process.wait(timeout=10) == 0  # its destroy hook would take an hour
    assert "entities not destroyed: stuck-1" in module.stderr()  # H-26: says what is left


def test_sigterm_stops_a_running_flow_and_exits_0(run_module) -> None:  # type: ignore[no-untyped-def]
    module = run_module()
    s = Stubs(module.address)
    src, sink = s.create("testsrc"), s.create("null")
    local = s.pipeline.ConnectEntities(pipeline_pb2.ConnectEntitiesRequest(
        connection_id="c1", source_entity_id=src, target_entity_id=sink, media_type=VIDEO,
        role=pipeline_pb2.CONNECTION_ROLE_LOCAL), timeout=5).connection
    assert local.transport_protocol == "local" and not local.HasField("endpoint")  # P-16
    s.pipeline.StartFlow(pipeline_pb2.StartFlowRequest(flow_id="f1", connection_ids=["c1"]),
                         timeout=10)
    s.wait_frames("f1", 5)
    os.kill(module.process.pid, signal.SIGTERM)
    assert module.process.wait(timeout=6) == 0
    assert ffmpeg_children(module.process.pid) == []


@pytest.mark.parametrize("reuseport", [False, True])
def test_a_taken_port_exits_98(run_module, reuseport: bool) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as taken:
        # H-2: held as another gRPC server holds it (SO_REUSEPORT on, gRPC's default), the
        # port is still noticed only because the module binds without SO_REUSEPORT.
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, int(reuseport))
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        module = run_module(port=taken.getsockname()[1], wait_ready=False)
        assert module.process.wait(timeout=20) == 98
        assert "GRPC_PORT" in module.stderr()


@pytest.mark.parametrize(("env", "variable"), [
    ({}, "GRPC_PORT"), ({"GRPC_PORT": "http"}, "GRPC_PORT"), ({"GRPC_PORT": "70000"}, "GRPC_PORT"),
    ({"GRPC_PORT": "50051"}, "MEDIAGRID_MODULE_ID"),  # H-23: the id is required
])
def test_h3_h23_a_bad_environment_exits_2_naming_the_variable(
    env: dict[str, str], variable: str
) -> None:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("GRPC_PORT", "MEDIAGRID_MODULE_ID")}
    done = subprocess.run([sys.executable, "module.py"], cwd=HELLO, env={**clean, **env},
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert variable in done.stderr and f"set {variable}" in done.stderr


def test_token_guards_mediagrid_calls_but_not_health_or_reflection(run_module) -> None:  # type: ignore[no-untyped-def]
    module = run_module(extra_env={"MEDIAGRID_TOKEN": "s3cret"})
    anonymous, wrong = Stubs(module.address), Stubs(module.address, token="nope")
    for stubs in (anonymous, wrong):
        with pytest.raises(grpc.RpcError) as caught:
            stubs.module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=5,
                                     metadata=stubs.md)
        assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
        assert "MEDIAGRID_TOKEN" in caught.value.details()
    good = Stubs(module.address, token="s3cret")
    assert good.module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=5,
                                   metadata=good.md).status.state == module_pb2.MODULE_STATE_READY
    # S-8: the scheme in any case; two authorization values are refused
    assert good.module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=5, metadata=(
        ("authorization", "bEARER s3cret"),)).status.state == module_pb2.MODULE_STATE_READY
    with pytest.raises(grpc.RpcError) as caught:
        good.module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=5,
                                metadata=(*good.md, ("authorization", "Bearer nope")))
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as caught:  # S-8: one space, then the token exactly
        good.module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=5,
                                metadata=(("authorization", "Bearer  s3cret"),))
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    reply = anonymous.health.Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert "mediagrid.v1.EntityService" in ProtoReflectionDescriptorDatabase(
        anonymous.channel).get_services()


def test_error_codes_over_the_wire(run_module) -> None:  # type: ignore[no-untyped-def]
    s = Stubs(run_module().address)
    cases = [
        (s.entity.GetEntityStatus, entity_pb2.GetEntityStatusRequest(entity_id="ghost"),
         grpc.StatusCode.NOT_FOUND),
        (s.entity.CreateEntity, entity_pb2.CreateEntityRequest(
            entity_type="testsrc", config={"size": "big"}), grpc.StatusCode.INVALID_ARGUMENT),
        (s.entity.CreateEntity, entity_pb2.CreateEntityRequest(
            entity_type="testsrc", media_type=common_pb2.MEDIA_TYPE_AUDIO),
         grpc.StatusCode.FAILED_PRECONDITION),
    ]
    for method, request, code in cases:
        with pytest.raises(grpc.RpcError) as caught:
            method(request, timeout=5)
        assert caught.value.code() is code, caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:  # S-5: gRPC's own 4 MiB limit
        s.entity.CreateEntity(entity_pb2.CreateEntityRequest(
            entity_type="null", name="x" * (4 * 1024 * 1024 + 1)), timeout=5)
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    first = s.entity.CreateEntity(entity_pb2.CreateEntityRequest(
        entity_type="null", request_id="same"), timeout=5)
    again = s.entity.CreateEntity(entity_pb2.CreateEntityRequest(
        entity_type="null", request_id="same"), timeout=5)
    assert (first.created, again.created) == (True, False)
    assert again.entity.sink.id == first.entity.sink.id


def test_reports_reach_the_orchestrator_in_order_with_the_token(run_module) -> None:  # type: ignore[no-untyped-def]
    from mediagrid.sdk.testing import LoopThread
    from mediagrid.v1 import event_pb2
    from tests.sdk.event_server import EventServer
    from tests.support import free_port

    with LoopThread() as loop:
        server = EventServer(free_port())
        server.recorder.token = "tok"
        loop.run(server.start())
        try:
            module = run_module(extra_env={"MEDIAGRID_ORCHESTRATOR_ADDRESS": server.address,
                                           "MEDIAGRID_TOKEN": "tok",
                                           "MEDIAGRID_MODULE_ID": "hello-7"})
            s = Stubs(module.address, token="tok")
            instance = s.module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=5,
                                            metadata=s.md).status.instance_id
            src, sink = s.create("testsrc"), s.create("null")
            s.pipeline.ConnectEntities(pipeline_pb2.ConnectEntitiesRequest(
                connection_id="c1", source_entity_id=src, target_entity_id=sink,
                media_type=VIDEO, role=pipeline_pb2.CONNECTION_ROLE_LOCAL), timeout=5,
                metadata=s.md)
            s.pipeline.StartFlow(pipeline_pb2.StartFlowRequest(
                flow_id="f1", connection_ids=["c1"]), timeout=10, metadata=s.md)
            s.entity.DestroyEntity(entity_pb2.DestroyEntityRequest(entity_id=src), timeout=10,
                                   metadata=s.md)
            os.kill(module.process.pid, signal.SIGTERM)
            assert module.process.wait(timeout=6) == 0  # flushes its reports before exiting
        finally:
            loop.run(server.stop())
    accepted = server.recorder.accepted
    assert [r.header.sequence for r in accepted] == list(range(1, len(accepted) + 1))
    assert {(r.header.module_id, r.header.instance_id) for r in accepted} == {
        ("hello-7", instance)}  # E-1
    events = [(r.event.type, r.event.source_entity_id) for r in accepted if r.HasField("event")]
    T = event_pb2
    assert events[0] == (T.EVENT_TYPE_ENTITY_CREATED, src)
    kinds = [t for t, _ in events]
    assert kinds.index(T.EVENT_TYPE_CONNECTION_CREATED) < kinds.index(T.EVENT_TYPE_FLOW_STARTED)
    # Destroying a running source removes its connection: the flow turns ERROR first.
    assert kinds.index(T.EVENT_TYPE_ERROR) < kinds.index(T.EVENT_TYPE_CONNECTION_REMOVED)
    about_src = [i for i, r in enumerate(accepted)
                 if src in (r.event.source_entity_id, r.status.entity_id, r.metrics.entity_id)]
    assert accepted[about_src[-1]].event.type == T.EVENT_TYPE_ENTITY_DESTROYED
    stamps = [getattr(r, r.WhichOneof("report")).timestamp.ToNanoseconds() for r in accepted]
    assert stamps == sorted(stamps)
    # H-26, E-19: the shutdown stopped the flow and destroyed the sink, and said so
    assert (T.EVENT_TYPE_FLOW_STOPPED, "") in events
    assert events[-1] == (T.EVENT_TYPE_ENTITY_DESTROYED, sink)
