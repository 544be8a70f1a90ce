"""CreatePipeline, DeletePipeline, ListConnections and ListFlows across real module
processes (pipes.py): the planner's path is built hop by hop and checked by real modules, a
half-built pipeline is undone, no path is FAILED_PRECONDITION naming both sides' codecs
(P-12, P-13), and forwarding keeps codes, messages and deadlines."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc

from mediagrid.v1 import entity_pb2, event_pb2, orchestrator_pb2
from tests.orchestrator.conftest import client, orchestrator, ready, run, write_module
from tests.stack.helpers import AUDIO, kind, make, ref, refused, write_pipes
from tests.support import eventually

op = orchestrator_pb2


def modules(root: Path) -> Path:
    mods = root / "mods"
    write_pipes(mods, "cams", {"cam": kind("source", ["hevc"]),
                               "mic": kind("source", ["opus"], media="audio")})
    write_pipes(mods, "conv", {"to-h264": kind("converter", ["hevc", "h264"], output=["h264"]),
                               "to-mpeg2": kind("converter", ["h264"], output=["mpeg2video"])})
    write_pipes(mods, "screens", {"screen": kind("sink", ["h264"]),
                                  "old": kind("sink", ["mpeg2video"]),
                                  "legacy": kind("sink", ["mpeg4"]),
                                  "speaker": kind("sink", ["opus"], media="audio")})
    return mods


async def entity_ids(stub: object, module_id: str) -> list[str]:
    request = op.OrchestratorServiceListEntitiesRequest(module_id=module_id)
    listed = await stub.ListEntities(request, timeout=10)  # type: ignore[attr-defined]
    return [getattr(e, e.WhichOneof("entity")).id for e in listed.entities]


def test_p12_p13_direct_path_converter_chain_no_path_and_delete(tmp_path: Path) -> None:
    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", modules(tmp_path)) as app, \
                client(app) as stub:
            await ready(app)
            await make(stub, "cams", "cam", "cam")
            await make(stub, "cams", "mic", "mic", AUDIO)
            for sink in ("screen", "old", "legacy"):
                await make(stub, "screens", sink, sink)
            await make(stub, "screens", "speaker", "speaker", AUDIO)

            # Direct: no converter, one connection, the flow started.
            direct = await stub.CreatePipeline(op.CreatePipelineRequest(
                pipeline_id="talk", source=ref("cams", "mic"), sink=ref("screens", "speaker"),
                start=True), timeout=30)
            assert not direct.created_entities
            assert [c.id for c in direct.flow.connections] == ["talk-1"]
            assert direct.plan == ["cams/mic -> screens/speaker: audio:opus over mpegts-udp"]

            # hevc -> h264: one converter, created in conv; a chain of two for mpeg2video.
            one = await stub.CreatePipeline(op.CreatePipelineRequest(
                pipeline_id="view", request_id="r-view", source=ref("cams", "cam"),
                sink=ref("screens", "screen"), start=True), timeout=30)
            assert [(e.module_id, e.entity_id) for e in one.created_entities] == [
                ("conv", "view-c1")]
            assert [(c.source_module_id, c.target_module_id) for c in one.flow.connections] \
                == [("cams", "conv"), ("conv", "screens")]
            archive = op.CreatePipelineRequest(
                pipeline_id="archive", source=ref("cams", "cam"), sink=ref("screens", "old"),
                start=True)
            archive.quality.resolution.width, archive.quality.resolution.height = 320, 240
            archive.quality.bitrate = 500_000
            two = await stub.CreatePipeline(archive, timeout=30)
            assert [e.entity_id for e in two.created_entities] == ["archive-c1", "archive-c2"]
            assert len(two.plan) == 3 and "video:mpeg2video" in two.plan[2]
            assert set(await entity_ids(stub, "conv")) == {"view-c1", "archive-c1",
                                                           "archive-c2"}

            # A repeated request_id returns the first call's pipeline and makes nothing.
            again = await stub.CreatePipeline(op.CreatePipelineRequest(
                pipeline_id="view", request_id="r-view", source=ref("cams", "cam"),
                sink=ref("screens", "screen"), start=True), timeout=30)
            assert again.flow.id == "view" and len(await entity_ids(stub, "conv")) == 3
            text = await refused(stub.CreatePipeline(op.CreatePipelineRequest(
                pipeline_id="view", request_id="r-view", source=ref("cams", "cam"),
                sink=ref("screens", "old"), start=True), timeout=30),
                grpc.StatusCode.ALREADY_EXISTS)
            assert "with other arguments" in text, text
            await refused(stub.CreatePipeline(op.CreatePipelineRequest(
                pipeline_id="view", source=ref("cams", "cam"), sink=ref("screens", "screen"))),
                grpc.StatusCode.ALREADY_EXISTS)

            # No path: FAILED_PRECONDITION naming the missing capability and both offers.
            text = await refused(stub.CreatePipeline(op.CreatePipelineRequest(
                source=ref("cams", "cam"), sink=ref("screens", "legacy"))),
                grpc.StatusCode.FAILED_PRECONDITION)
            assert "codecs not matched: video:hevc => video:mpeg4" in text, text
            assert "missing capability: a video converter taking video:hevc and giving" \
                " video:mpeg4" in text
            assert "cams/cam (cam) offers video:hevc" in text and "takes video:mpeg4" in text

            # What exists is listed; merged flows carry both modules' parts.
            flows = await stub.ListFlows(op.ListFlowsRequest(), timeout=10)
            assert [f.id for f in flows.flows] == ["talk", "view", "archive"]
            page = op.ListConnectionsRequest(module_id="conv")
            page.page.page_size = 3
            first = await stub.ListConnections(page, timeout=10)
            page.page.page_token = first.next_page_token
            rest = await stub.ListConnections(page, timeout=10)
            # Creation order: each pipeline's hops were connected from the sink upstream.
            listed = [*first.connections, *rest.connections]
            assert [c.id for c in listed] == [
                "view-2", "view-1", "archive-3", "archive-2", "archive-1"]
            assert not rest.next_page_token
            # The quality asked is the sink's: the last hop carries it, the others only
            # their codec.
            sizes = {c.id: (c.quality.resolution.width, c.quality.bitrate) for c in listed}
            assert sizes["archive-3"] == (320, 500_000)
            assert sizes["archive-2"] == sizes["archive-1"] == (0, 0)

            # Delete: the flow stops, its connections go, the converters it made are destroyed.
            gone = await stub.DeletePipeline(op.DeletePipelineRequest(pipeline_id="archive"),
                                             timeout=30)
            assert gone.deleted and list(gone.removed_connections) == [
                "archive-1", "archive-2", "archive-3"]
            assert set(await entity_ids(stub, "conv")) == {"view-c1"}
            assert not (await stub.DeletePipeline(op.DeletePipelineRequest(
                pipeline_id="archive"), timeout=30)).deleted
            await refused(stub.DeletePipeline(op.DeletePipelineRequest(pipeline_id="nope")),
                          grpc.StatusCode.NOT_FOUND)
            listed = await stub.ListFlows(op.ListFlowsRequest(include_stopped=True), timeout=10)
            assert [(f.id, f.status.state) for f in listed.flows][-1] == ("archive", 3)
            running = await stub.ListFlows(op.ListFlowsRequest(), timeout=10)
            assert [f.id for f in running.flows] == ["talk", "view"]
            connections = await stub.ListConnections(op.ListConnectionsRequest(), timeout=10)
            assert "archive-1" not in [c.id for c in connections.connections]

    run(body())


def test_a_half_built_pipeline_is_undone_and_stays_undone_after_a_restart(
        tmp_path: Path) -> None:
    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", modules(tmp_path)) as app, \
                client(app) as stub:
            await ready(app)
            await make(stub, "cams", "cam", "cam")
            await make(stub, "screens", "screen", "fussy", refuse="start")
            # Converter made, both hops connected, the sink's StartFlow refuses: all undone.
            text = await refused(stub.CreatePipeline(op.CreatePipelineRequest(
                pipeline_id="half", source=ref("cams", "cam"), sink=ref("screens", "fussy"),
                start=True), timeout=30), grpc.StatusCode.FAILED_PRECONDITION)
            assert "refuses to start" in text and "undone" in text, text
            assert "half-c1 destroyed" in text and "half-1, half-2 removed" in text, text
            # Undone newest first: the hop leaving the source (connected last) goes first, as
            # the converter's module, which held both, reports.
            def removed() -> list[str]:
                return [e.connection_id for e in app.bus.reports_of(
                    "conv", event_pb2.EVENT_TYPE_CONNECTION_REMOVED)]
            await eventually(lambda: len(removed()) >= 2, 10)
            assert removed() == ["half-1", "half-2"]
            # A direct pipeline (no converter to take its hop away with it) is undone too.
            await make(stub, "cams", "mic", "mic", AUDIO)
            await make(stub, "screens", "speaker", "mute", AUDIO, refuse="start")
            text = await refused(stub.CreatePipeline(op.CreatePipelineRequest(
                pipeline_id="hush", source=ref("cams", "mic"), sink=ref("screens", "mute"),
                start=True), timeout=30), grpc.StatusCode.FAILED_PRECONDITION)
            assert "connections hush-1 removed" in text, text
            # A caller who gives up half-way (Ctrl-C) leaves nothing behind either.
            await make(stub, "screens", "screen", "slow", connect_delay="60")
            call = stub.CreatePipeline(op.CreatePipelineRequest(
                pipeline_id="cut", source=ref("cams", "cam"), sink=ref("screens", "slow")),
                timeout=60)
            async with asyncio.timeout(20):
                while "cut-c1" not in await entity_ids(stub, "conv"):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            call.cancel()
            async with asyncio.timeout(20):
                while await entity_ids(stub, "conv"):  # noqa: ASYNC110 - polls a process
                    await asyncio.sleep(0.05)
            assert await entity_ids(stub, "conv") == []
            assert not (await stub.ListConnections(op.ListConnectionsRequest())).connections
            assert not (await stub.ListFlows(op.ListFlowsRequest(include_stopped=True))).flows
            # Nothing of it comes back with a restart of the converter's module.
            await stub.RestartModule(op.RestartModuleRequest(module_id="conv"), timeout=30)
            await ready(app, "conv")
            assert await entity_ids(stub, "conv") == []
            # The id is free again: the same pipeline to a sink that starts works.
            await make(stub, "screens", "screen", "screen")
            built = await stub.CreatePipeline(op.CreatePipelineRequest(
                pipeline_id="half", source=ref("cams", "cam"), sink=ref("screens", "screen")),
                timeout=30)
            assert built.flow.id == "half" and len(built.flow.connections) == 2

    run(body())


def test_forwarding_keeps_the_callers_deadline_and_the_modules_answer(tmp_path: Path) -> None:
    async def body() -> None:
        # call_timeout (the deadline of a call whose caller set none) shorter than the
        # module's answer: a caller's longer deadline must be the one the module call gets.
        async with orchestrator(tmp_path / "state.sqlite", modules(tmp_path),
                                call_timeout=0.3) as app, client(app) as stub:
            await ready(app)
            patient = op.OrchestratorServiceCreateEntityRequest(
                module_id="cams", request=entity_pb2.CreateEntityRequest(
                    entity_type="cam", entity_id="patient", config={"delay": "1"}))
            made = await stub.CreateEntity(patient, timeout=30)
            assert made.response.entity.source.id == "patient"
            request = op.OrchestratorServiceCreateEntityRequest(
                module_id="cams", request=entity_pb2.CreateEntityRequest(
                    entity_type="cam", entity_id="slow", config={"delay": "20"}))
            began = time.monotonic()
            await refused(stub.CreateEntity(request, timeout=1.0),
                          grpc.StatusCode.DEADLINE_EXCEEDED)
            # The module call carried the caller's deadline, not the 30 s default: the
            # orchestrator is free again long before the module would have answered.
            assert time.monotonic() - began < 15
            status = op.OrchestratorServiceGetEntityStatusRequest(
                module_id="cams", request=entity_pb2.GetEntityStatusRequest(entity_id="nope"))
            text = await refused(stub.GetEntityStatus(status, timeout=10),
                                 grpc.StatusCode.NOT_FOUND)
            assert "nope" in text

    run(body())


def test_list_entities_over_all_modules_pages_past_a_module_that_is_not_ready(
        tmp_path: Path) -> None:
    mods = modules(tmp_path)
    write_module(mods, "late", types=("thing",), env={"START_DELAY": "600"})

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", mods) as app, \
                client(app) as stub:
            await ready(app, "cams", "conv", "screens")
            # A page part-filled by cams asks screens only for what is left of it.
            made = [("cams", "c1"), ("screens", "s1"), ("screens", "s2"), ("screens", "s3")]
            for module_id, entity_id in made:
                await make(stub, module_id, "cam" if module_id == "cams" else "screen",
                           entity_id)
            seen, token = [], ""
            while True:  # "late" (STARTING, between conv and screens) is skipped, no error
                request = op.OrchestratorServiceListEntitiesRequest()
                request.request.page.page_size, request.request.page.page_token = 2, token
                page = await stub.ListEntities(request, timeout=10)
                assert 0 < len(page.entities) <= 2
                seen += [(e.module_id, getattr(e, e.WhichOneof("entity")).id)
                         for e in page.entities]
                token = page.next_page_token
                if not token:
                    break
            assert seen == made
            text = await refused(stub.ListEntities(op.OrchestratorServiceListEntitiesRequest(
                module_id="late"), timeout=10), grpc.StatusCode.UNAVAILABLE)
            assert "'late' is STARTING, not READY" in text

    run(body())
