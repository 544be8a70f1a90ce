"""A flow's state follows the media measured at the module's own end (rules P-11, P-21, P-22),
with the example module on the media layer as two real processes: no media at first, media,
the source going away, the source back. The target's ffmpeg carries on throughout."""

from __future__ import annotations

import importlib.util
import socket
import urllib.parse
from typing import Any

from mediagrid.reference.modules.wiring import Flow, ModuleClient
from mediagrid.v1 import common_pb2, entity_pb2, pipeline_pb2
from tests import support
from tests.modules import checks
from tests.sdk.conftest import HELLO, FakeClock
from tests.sdk.test_process import ffmpeg_children

INITIALIZING, ERROR = pipeline_pb2.FLOW_STATE_INITIALIZING, pipeline_pb2.FLOW_STATE_ERROR
ESTABLISHED = pipeline_pb2.CONNECTION_STATE_ESTABLISHED
ACTIVE_LINK = pipeline_pb2.CONNECTION_STATE_ACTIVE
VIDEO = common_pb2.MEDIA_TYPE_VIDEO


def test_a_target_follows_its_source_away_and_back(run_module):
    source_process, sink_process = run_module(), run_module()
    source, sink = ModuleClient(source_process.address), ModuleClient(sink_process.address)
    pattern, null = source.create("testsrc", {"rate": "25"}), sink.create("null")
    flow = Flow("f1")
    flow.connect("c1", pattern, null)
    sink.pipeline.StartFlow(pipeline_pb2.StartFlowRequest(flow_id="f1", connection_ids=["c1"]))
    waiting = sink.flow("f1")
    assert waiting.status.state == INITIALIZING
    assert waiting.connections[0].status.state == ESTABLISHED  # not ACTIVE without media
    receiver = ffmpeg_children(sink_process.process.pid)
    assert len(receiver) == 1  # listening, decoding nothing yet
    failed = checks.wait_flow(sink, "f1", lambda f: f.status.state == ERROR, 20, "ERROR")
    assert "no media arrived" in failed.status.error_message  # P-21, after 10 s

    source.pipeline.StartFlow(pipeline_pb2.StartFlowRequest(flow_id="f1",
                                                            connection_ids=["c1"]))
    moving = checks.wait_frames(sink, "f1", 50)  # P-21: ACTIVE when media comes later
    assert moving.connections[0].status.state == ACTIVE_LINK
    assert moving.connections[0].metrics.bitrate_bps > 0

    checks.wait_frames(source, "f1", 50)  # sent, as the source measures it
    source.pipeline.StopFlow(pipeline_pb2.StopFlowRequest(flow_id="f1"))  # the source goes
    stalled = checks.wait_flow(sink, "f1", lambda f: f.status.state == ERROR, 15, "ERROR")
    assert "stalled" in stalled.status.error_message  # P-11
    stalled = checks.wait_flow(  # the media layer says where it looked
        sink, "f1", lambda f: "no media received" in f.status.error_message, 5, "the reason")
    assert stalled.metrics.fps == 0 and stalled.connections[0].metrics.bitrate_bps == 0

    source.pipeline.StartFlow(pipeline_pb2.StartFlowRequest(flow_id="f2",
                                                            connection_ids=["c1"]))
    frames = stalled.metrics.frames
    back = checks.wait_frames(sink, "f1", frames + 25)  # the same flow, ACTIVE again by itself
    # The source's new flow counts its frames from its own start (FlowMetrics.frames): about
    # what arrived since, not that plus the old flow's.
    assert source.flow("f2").metrics.frames < back.metrics.frames - frames + 25
    assert ffmpeg_children(sink_process.process.pid) == receiver  # never restarted


def load_hello() -> Any:
    spec = importlib.util.spec_from_file_location("hello_module", HELLO / "module.py")
    assert spec is not None and spec.loader is not None
    hello = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hello)
    return hello.module


async def measure(entity: Any) -> None:
    entity.measure()  # on the module's loop, as its ticker does


def test_p22_bytes_that_decode_to_no_frame_are_not_media_moving(make_harness):
    """Bytes arrive but no frame comes of them (here TS null packets): not media moving, so
    the start period ends with "no media arrived" (P-21) at the media layer itself. The
    entity's clock is moved by hand past the start period; the bytes are real datagrams."""
    h = make_harness(module=load_hello())
    sink = h.ok("EntityService", "CreateEntity", entity_pb2.CreateEntityRequest(
        entity_type="null", media_type=VIDEO)).entity.sink.id
    endpoint = h.ok("PipelineService", "ConnectEntities", pipeline_pb2.ConnectEntitiesRequest(
        connection_id="c1", source_entity_id="elsewhere", target_entity_id=sink,
        media_type=VIDEO, role=pipeline_pb2.CONNECTION_ROLE_TARGET,
        source_module_id="other")).connection.endpoint
    entity = h.rt.entities.registry.get(sink)
    clock = FakeClock()
    entity._clock = clock  # the start period's clock (the meters keep real time)
    h.ok("PipelineService", "StartFlow", pipeline_pb2.StartFlowRequest(
        flow_id="f1", connection_ids=["c1"]))
    try:
        port = urllib.parse.urlsplit(endpoint.url).port
        null_packet = b"\x47\x1f\xff\x10" + bytes(184)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(null_packet * 7, ("127.0.0.1", port))
            assert support.wait_until(lambda: entity.receiver.bytes.total > 0, 10)
        clock.now += 10.5  # past the start period, the bytes less than a second old
        h.loop.run(measure(entity))
        link = h.ok("PipelineService", "GetFlowStatus", pipeline_pb2.GetFlowStatusRequest(
            flow_id="f1")).flow.connections[0]
        assert link.status.state == pipeline_pb2.CONNECTION_STATE_ERROR, link
        assert "no media arrived at connection 'c1'" in link.status.error_message
    finally:
        h.ok("EntityService", "DestroyEntity", entity_pb2.DestroyEntityRequest(entity_id=sink))
