"""Desired state (H-15, P-12): what services asked for comes back, with the same ids, after a
module restart, before the module is reported READY; connections spanning the restarted
module are made again on both sides."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from mediagrid.reference.orchestrator.app import Orchestrator
from mediagrid.v1 import (
    entity_pb2,
    event_pb2,
    orchestrator_pb2,
    pipeline_pb2,
    pipeline_pb2_grpc,
)
from tests.orchestrator.conftest import client, direct, orchestrator, ready, run, write_module
from tests.orchestrator.standin import StandInBus
from tests.support import eventually

VIDEO = 2
op = orchestrator_pb2


class WatchingBus(StandInBus):
    """Lists a module's entities, straight from the module, at the moment its READY is
    published: what subscribers would find then."""

    def __init__(self) -> None:
        super().__init__()
        self.app: Orchestrator | None = None
        self.at_ready: list[tuple[str, list[str]]] = []

    async def publish(self, module_id: str, event: event_pb2.Event) -> None:
        await super().publish(module_id, event)
        if event.type == event_pb2.EVENT_TYPE_MODULE_STATE_CHANGED and \
                event.details["new_state"] == "READY" and self.app is not None:
            address = self.app.modules.get(module_id).view.address
            async with direct(address) as module:
                listed = await module.ListEntities(entity_pb2.ListEntitiesRequest(), timeout=5)
            self.at_ready.append((module_id, [e.WhichOneof("entity") and
                                              getattr(e, e.WhichOneof("entity")).id
                                              for e in listed.entities]))


async def part(address: str, flow_id: str) -> pipeline_pb2.Flow:
    import grpc

    async with grpc.aio.insecure_channel(address) as channel:
        stub = pipeline_pb2_grpc.PipelineServiceStub(channel)
        return (await stub.GetFlowStatus(pipeline_pb2.GetFlowStatusRequest(flow_id=flow_id),
                                         timeout=5)).flow


async def build(stub: Any) -> tuple[str, str]:
    """src: cam, mon (local sink); dst: rec. Connections local and cross; two flows."""
    async def create(module: str, kind: str, entity_id: str, **config: str) -> None:
        await stub.CreateEntity(op.OrchestratorServiceCreateEntityRequest(
            module_id=module, request=entity_pb2.CreateEntityRequest(
                entity_type=kind, entity_id=entity_id, config=config)))
    await create("src", "thing", "cam", size="640x360")
    await create("src", "sink", "mon")
    await create("dst", "sink", "rec")
    await stub.ConfigureEntity(op.OrchestratorServiceConfigureEntityRequest(
        module_id="src", request=entity_pb2.ConfigureEntityRequest(
            entity_id="cam", config={"rate": "30"})))
    local = await stub.ConnectEntities(op.OrchestratorServiceConnectEntitiesRequest(
        connection_id="cam-to-mon", source=op.EntityRef(module_id="src", entity_id="cam"),
        target=op.EntityRef(module_id="src", entity_id="mon"), media_type=VIDEO))
    cross = await stub.ConnectEntities(op.OrchestratorServiceConnectEntitiesRequest(
        connection_id="cam-to-rec", source=op.EntityRef(module_id="src", entity_id="cam"),
        target=op.EntityRef(module_id="dst", entity_id="rec"), media_type=VIDEO))
    assert local.connection.transport_protocol == "local"
    assert cross.connection.endpoint.url.startswith("udp://127.0.0.1:")
    await stub.StartFlow(op.OrchestratorServiceStartFlowRequest(
        flow_id="watch", connection_ids=["cam-to-mon"]))
    await stub.StartFlow(op.OrchestratorServiceStartFlowRequest(
        flow_id="record", connection_ids=["cam-to-rec"]))
    return local.connection.id, cross.connection.endpoint.url


async def kill_and_wait(app: Orchestrator, module_id: str) -> None:
    supervisor = app.modules.get(module_id)
    old = supervisor.view.instance_id
    os.kill(supervisor.view.pid, signal.SIGKILL)
    await eventually(lambda: supervisor.view.instance_id not in ("", old), within=20)
    await ready(app, module_id)
    # The view turns READY as the READY envelope is published; WatchingBus records what the
    # module held at that moment only once publish() has run its own ListEntities.
    bus = app.bus
    if isinstance(bus, WatchingBus):
        await eventually(lambda: any(m == module_id for m, _ in bus.at_ready), within=10)


async def entities(address: str) -> dict[str, dict[str, str]]:
    async with direct(address) as module:
        listed = await module.ListEntities(entity_pb2.ListEntitiesRequest(), timeout=5)
    out = {}
    for e in listed.entities:
        inner = getattr(e, e.WhichOneof("entity"))
        out[inner.id] = dict(inner.config)
    return out


def test_h15_p12_everything_comes_back_after_either_module_is_killed(tmp_path: Path) -> None:
    write_module(tmp_path / "mods", "src", types=("thing", "sink"))
    write_module(tmp_path / "mods", "dst", types=("sink",))
    bus = WatchingBus()

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods", bus=bus) as app, \
                client(app) as stub:
            bus.app = app
            await ready(app)
            _, first_url = await build(stub)
            src, dst = app.modules.get("src"), app.modules.get("dst")
            # P-12: the target side listened first and the source sends to its endpoint.
            assert (await part(src.view.address, "record")).connections[0].endpoint.url == \
                first_url

            # The target's module dies: it listens again (a new endpoint), and the source's
            # module, which survived, is re-pointed there; its part of the flow restarts.
            bus.at_ready.clear()
            await kill_and_wait(app, "dst")
            assert bus.at_ready == [("dst", ["rec"])]  # re-created before READY was told
            assert await entities(dst.view.address) == {"rec": {}}
            new_url = (await part(dst.view.address, "record")).connections[0].endpoint.url
            assert new_url != first_url
            repointed = await part(src.view.address, "record--2")
            assert repointed.connections[0].endpoint.url == new_url
            assert repointed.status.state != pipeline_pb2.FLOW_STATE_STOPPED
            merged = await stub.GetFlowStatus(op.OrchestratorServiceGetFlowStatusRequest(
                flow_id="record"))
            assert [c.id for c in merged.flow.connections] == ["cam-to-rec"]
            assert merged.flow.status.state != pipeline_pb2.FLOW_STATE_ERROR

            # The source's module dies: entities (config as last set), the local connection
            # and flow, and its side of the cross connection, sending to the same endpoint.
            bus.at_ready.clear()
            await kill_and_wait(app, "src")
            assert bus.at_ready == [("src", ["cam", "mon"])]
            assert await entities(src.view.address) == {
                "cam": {"size": "640x360", "rate": "30"}, "mon": {}}
            watch = await part(src.view.address, "watch")
            assert [c.id for c in watch.connections] == ["cam-to-mon"]
            record = await part(src.view.address, "record")  # a new instance: the flow's id
            assert record.connections[0].endpoint.url == new_url
            listed = await stub.ListEntities(op.OrchestratorServiceListEntitiesRequest())
            assert sorted((e.module_id, getattr(e, e.WhichOneof("entity")).id)
                          for e in listed.entities) == [("dst", "rec"), ("src", "cam"),
                                                        ("src", "mon")]

    run(body())


def test_p12_start_flow_starts_sinks_first_and_stop_flow_is_idempotent(
        tmp_path: Path) -> None:
    write_module(tmp_path / "mods", "src", types=("thing",))
    write_module(tmp_path / "mods", "dst", types=("sink",))

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            await ready(app)
            for module, kind, entity_id in (("src", "thing", "cam"), ("dst", "sink", "rec")):
                await stub.CreateEntity(op.OrchestratorServiceCreateEntityRequest(
                    module_id=module, request=entity_pb2.CreateEntityRequest(
                        entity_type=kind, entity_id=entity_id)))
            await stub.ConnectEntities(op.OrchestratorServiceConnectEntitiesRequest(
                connection_id="c1", source=op.EntityRef(module_id="src", entity_id="cam"),
                target=op.EntityRef(module_id="dst", entity_id="rec"), media_type=VIDEO))
            started = await stub.StartFlow(op.OrchestratorServiceStartFlowRequest(
                flow_id="f1", connection_ids=["c1"]))
            assert [c.id for c in started.flow.connections] == ["c1"]
            sink = await part(app.modules.get("dst").view.address, "f1")
            source = await part(app.modules.get("src").view.address, "f1")
            assert sink.started_at.ToNanoseconds() <= source.started_at.ToNanoseconds()
            stopped = await stub.StopFlow(op.OrchestratorServiceStopFlowRequest(flow_id="f1"))
            assert stopped.stopped and stopped.flow.status.state == pipeline_pb2.FLOW_STATE_STOPPED
            again = await stub.StopFlow(op.OrchestratorServiceStopFlowRequest(flow_id="f1"))
            assert not again.stopped  # idempotent

    run(body())
