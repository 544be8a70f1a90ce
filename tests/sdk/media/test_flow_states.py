"""A flow's state follows the media measured at the module's own end (rules P-11, P-21, P-22),
with the example module on the media layer as two real processes: no media at first, media,
the source going away, the source back. The target's ffmpeg carries on throughout."""

from __future__ import annotations

from mediagrid.reference.modules.wiring import Flow, ModuleClient
from mediagrid.v1 import pipeline_pb2
from tests.modules import checks
from tests.sdk.test_process import ffmpeg_children

INITIALIZING, ERROR = pipeline_pb2.FLOW_STATE_INITIALIZING, pipeline_pb2.FLOW_STATE_ERROR
ESTABLISHED = pipeline_pb2.CONNECTION_STATE_ESTABLISHED
ACTIVE_LINK = pipeline_pb2.CONNECTION_STATE_ACTIVE


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
    moving = checks.wait_frames(sink, "f1", 25)  # P-21: ACTIVE when media comes later
    assert moving.connections[0].status.state == ACTIVE_LINK
    assert moving.connections[0].metrics.bitrate_bps > 0

    source.pipeline.StopFlow(pipeline_pb2.StopFlowRequest(flow_id="f1"))  # the source goes
    stalled = checks.wait_flow(sink, "f1", lambda f: f.status.state == ERROR, 15, "ERROR")
    assert "stalled" in stalled.status.error_message  # P-11
    stalled = checks.wait_flow(  # the media layer says where it looked
        sink, "f1", lambda f: "no media received" in f.status.error_message, 5, "the reason")
    assert stalled.metrics.fps == 0 and stalled.connections[0].metrics.bitrate_bps == 0

    source.pipeline.StartFlow(pipeline_pb2.StartFlowRequest(flow_id="f2",
                                                            connection_ids=["c1"]))
    frames = stalled.metrics.frames
    checks.wait_frames(sink, "f1", frames + 25)  # the same flow, ACTIVE again by itself
    assert ffmpeg_children(sink_process.process.pid) == receiver  # never restarted
