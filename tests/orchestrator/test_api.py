"""OrchestratorService's answers: status codes forwarded unchanged, NOT_FOUND for unknown
module ids, UNAVAILABLE naming a module that is not READY, paging over modules, idempotent
removals across restarts (contract §8, H-10 seen through the orchestrator, H-15, N-6, P-7,
P-8)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import grpc
import pytest

from mediagrid.v1 import common_pb2, entity_pb2, orchestrator_pb2
from tests.orchestrator.conftest import client, direct, orchestrator, ready, run, write_module
from tests.support import eventually

op = orchestrator_pb2
VIDEO = common_pb2.MEDIA_TYPE_VIDEO


async def refused(call: Any, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() is code, caught.value.details()
    return caught.value.details() or ""


def create(module_id: str, entity_type: str, entity_id: str = "", **config: str) -> Any:
    return op.OrchestratorServiceCreateEntityRequest(
        module_id=module_id, request=entity_pb2.CreateEntityRequest(
            entity_type=entity_type, entity_id=entity_id, config=config))


def test_status_codes_unknown_module_not_ready_module_and_forwarded_module_errors(
        tmp_path: Path) -> None:
    write_module(tmp_path / "mods", "alpha", types=("thing",))
    write_module(tmp_path / "mods", "late", types=("thing",), env={"START_DELAY": "600"})

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            await ready(app, "alpha")
            text = await refused(stub.GetModule(op.GetModuleRequest(module_id="nope")),
                                 grpc.StatusCode.NOT_FOUND)
            assert "'nope'" in text and "alpha, late" in text
            await refused(stub.CreateEntity(create("nope", "thing")), grpc.StatusCode.NOT_FOUND)
            text = await refused(stub.CreateEntity(create("late", "thing")),
                                 grpc.StatusCode.UNAVAILABLE)
            assert "'late' is STARTING, not READY" in text
            # The module's own refusal, code and message unchanged.
            bad = create("alpha", "camera")
            forwarded = await refused(stub.CreateEntity(bad), grpc.StatusCode.INVALID_ARGUMENT)
            async with direct(app.modules.get("alpha").view.address) as module:
                own = await refused(module.CreateEntity(bad.request),
                                    grpc.StatusCode.INVALID_ARGUMENT)
            assert forwarded == own and "'camera'" in own
            await refused(stub.GetEntityStatus(op.OrchestratorServiceGetEntityStatusRequest(
                module_id="alpha", request=entity_pb2.GetEntityStatusRequest(entity_id="x9"))),
                grpc.StatusCode.NOT_FOUND)
            # No module_id: the first READY module offering the type.
            made = await stub.CreateEntity(create("", "thing", "auto-1"))
            assert made.module_id == "alpha"
            text = await refused(stub.CreateEntity(create("", "lens")),
                                 grpc.StatusCode.INVALID_ARGUMENT)
            assert "offered by no module" in text and "thing" in text
            text = await refused(stub.CreatePipeline(op.CreatePipelineRequest()),
                                 grpc.StatusCode.INVALID_ARGUMENT)
            assert "source needs module_id and entity_id" in text

    run(body())


def test_listing_pages_over_modules_and_modules_in_id_order(tmp_path: Path) -> None:
    for module_id in ("a1", "b2", "c3", "d4"):
        write_module(tmp_path / "mods", module_id, types=("thing",))

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            await ready(app)
            made = [("a1", "e1"), ("a1", "e2"), ("a1", "e3"), ("c3", "e4"), ("d4", "e5")]
            for module_id, entity_id in made:
                await stub.CreateEntity(create(module_id, "thing", entity_id))
            for size in (1, 2, 3, 5, 100):
                seen, token, pages = [], "", 0
                while True:
                    request = op.OrchestratorServiceListEntitiesRequest()
                    request.request.page.page_size, request.request.page.page_token = size, token
                    page = await stub.ListEntities(request)
                    pages += 1
                    assert 0 < len(page.entities) <= size  # never an empty page
                    seen += [(e.module_id, e.source.id) for e in page.entities]
                    token = page.next_page_token
                    if not token:
                        break
                assert seen == made, size
                assert pages == -(-len(made) // size)
            bad = op.OrchestratorServiceListEntitiesRequest()
            bad.request.page.page_token = "not-a-token"
            await refused(stub.ListEntities(bad), grpc.StatusCode.INVALID_ARGUMENT)
            ids, token = [], ""
            while True:
                request = op.ListModulesRequest()
                request.page.page_size, request.page.page_token = 3, token
                page = await stub.ListModules(request)
                ids += [m.id for m in page.modules]
                token = page.next_page_token
                if not token:
                    break
            assert ids == ["a1", "b2", "c3", "d4"]
            found = await stub.FindModules(op.FindModulesRequest(
                entity_type="thing", media_type=VIDEO, protocol="mpegts-udp", ready_only=True))
            assert [m.module.id for m in found.matches] == ["a1", "b2", "c3", "d4"]
            # Every type here is VIDEO and lists no codec (any video codec, P-3): an audio
            # codec matches none, and each module says why.
            none = await stub.FindModules(op.FindModulesRequest(codec="aac"))
            assert not none.matches and {m.module_id for m in none.misses} >= {"a1", "d4"}

    run(body())


def test_removals_stay_removed_and_idempotent_across_a_module_restart(tmp_path: Path) -> None:
    write_module(tmp_path / "mods", "alpha", types=("thing", "sink"))

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            await ready(app)
            await stub.CreateEntity(create("alpha", "thing", "cam"))
            await stub.CreateEntity(create("alpha", "sink", "mon"))
            await stub.CreateEntity(create("alpha", "thing", "gone"))
            await stub.ConnectEntities(op.OrchestratorServiceConnectEntitiesRequest(
                connection_id="c1", source=op.EntityRef(module_id="alpha", entity_id="cam"),
                target=op.EntityRef(module_id="alpha", entity_id="mon"), media_type=VIDEO))
            await stub.StartFlow(op.OrchestratorServiceStartFlowRequest(
                flow_id="f1", connection_ids=["c1"]))
            stopped = await stub.StopFlow(op.OrchestratorServiceStopFlowRequest(flow_id="f1"))
            assert stopped.stopped
            gone = op.OrchestratorServiceDestroyEntityRequest(
                module_id="alpha", request=entity_pb2.DestroyEntityRequest(entity_id="gone"))
            assert (await stub.DestroyEntity(gone)).response.destroyed
            disconnect = op.OrchestratorServiceDisconnectEntitiesRequest(connection_id="c1")
            assert (await stub.DisconnectEntities(disconnect)).disconnected

            supervisor = app.modules.get("alpha")
            old = supervisor.view.instance_id
            os.kill(supervisor.view.pid, signal.SIGKILL)
            await eventually(lambda: supervisor.view.instance_id not in ("", old), within=20)
            await ready(app, "alpha")

            async with direct(supervisor.view.address) as module:
                listed = await module.ListEntities(entity_pb2.ListEntitiesRequest())
            assert [e.WhichOneof("entity") and getattr(e, e.WhichOneof("entity")).id
                    for e in listed.entities] == ["cam", "mon"]  # "gone" stayed gone
            assert not (await stub.DestroyEntity(gone)).response.destroyed  # N-6
            assert not (await stub.DisconnectEntities(disconnect)).disconnected  # P-7
            again = await stub.StopFlow(op.OrchestratorServiceStopFlowRequest(flow_id="f1"))
            assert not again.stopped  # P-8
            await refused(stub.StartFlow(op.OrchestratorServiceStartFlowRequest(
                flow_id="f1", connection_ids=["c1"])), grpc.StatusCode.NOT_FOUND)
            await refused(stub.DisconnectEntities(op.OrchestratorServiceDisconnectEntitiesRequest(
                connection_id="never")), grpc.StatusCode.NOT_FOUND)
            await refused(stub.GetFlowStatus(op.OrchestratorServiceGetFlowStatusRequest(
                flow_id="never")), grpc.StatusCode.NOT_FOUND)

    run(body())
