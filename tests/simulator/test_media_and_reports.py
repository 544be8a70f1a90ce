"""The simulated module moves real MPEG-TS (a looped clip a decoder reads without an error)
and measures it at its own end; its journal of acknowledged reports is the truth: every
report it wrote down as acknowledged is in the orchestrator's event log; and its report
faults hold reports back (blackout) without losing them."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc

from mediagrid.simulator.module import media
from mediagrid.v1 import (
    common_pb2,
    orchestrator_pb2,
    orchestrator_pb2_grpc,
    pipeline_pb2,
    pipeline_pb2_grpc,
)
from tests.simulator.helpers import READY, sim
from tests.support import ffprobe_path, free_port, wait_until

VIDEO = common_pb2.MEDIA_TYPE_VIDEO


def test_the_looped_clip_is_one_clean_stream(tmp_path: Path) -> None:
    clip = asyncio.run(media.clip("h264"))
    loop = media.TsLoop(clip)
    data = b"".join(loop.due(clip.duration * 3 - 0.001))  # three loops
    (tmp_path / "loop.ts").write_bytes(data)
    counter = media.TsCounter()
    counter.feed(data)
    frames = 3 * clip.duration * media.VIDEO_FPS
    assert counter.frames == frames
    probe = subprocess.run(
        [ffprobe_path(), "-v", "warning", "-count_frames", "-show_entries",
         "stream=codec_name,nb_read_frames", "-select_streams", "v", "-of", "csv=p=0",
         str(tmp_path / "loop.ts")],
        capture_output=True, text=True, timeout=60)
    assert set(probe.stdout.split()) == {f"h264,{frames:g}"}
    assert probe.stderr.strip() == ""  # no timestamp jumps, no continuity errors


def test_a_flow_across_two_simulated_modules_moves_measured_media(tmp_path: Path) -> None:
    with sim(tmp_path / "a", module_id="sim-a") as source, \
            sim(tmp_path / "b", module_id="sim-b") as target:
        source.wait_state(READY)
        target.wait_state(READY)
        source.create("cam")
        target.create("rec", "recorder", media_type=VIDEO)
        b, a = (pipeline_pb2_grpc.PipelineServiceStub(m.channel) for m in (target, source))
        ends = dict(connection_id="cam-rec", source_entity_id="cam", target_entity_id="rec",
                    media_type=VIDEO)
        made = b.ConnectEntities(pipeline_pb2.ConnectEntitiesRequest(
            role=pipeline_pb2.CONNECTION_ROLE_TARGET, **ends), timeout=5).connection
        a.ConnectEntities(pipeline_pb2.ConnectEntitiesRequest(
            role=pipeline_pb2.CONNECTION_ROLE_SOURCE, endpoint=made.endpoint, **ends), timeout=5)
        for stub in (b, a):
            stub.StartFlow(pipeline_pb2.StartFlowRequest(flow_id="f1",
                                                         connection_ids=["cam-rec"]), timeout=5)

        def measured() -> pipeline_pb2.Flow:
            return b.GetFlowStatus(pipeline_pb2.GetFlowStatusRequest(flow_id="f1"),
                                   timeout=5).flow

        assert wait_until(lambda: measured().status.state == pipeline_pb2.FLOW_STATE_ACTIVE
                          and measured().metrics.fps > 0, 20)
        flow = measured()
        assert flow.status.bandwidth_usage > 20_000  # bits per second that arrived here
        assert flow.connections[0].metrics.frames > 0
        b.StopFlow(pipeline_pb2.StopFlowRequest(flow_id="f1"), timeout=5)
        stopped = b.GetFlowStatus(pipeline_pb2.GetFlowStatusRequest(flow_id="f1"), timeout=5)
        assert stopped.flow.status.state == pipeline_pb2.FLOW_STATE_STOPPED


@contextlib.contextmanager
def event_bus(tmp_path: Path) -> Iterator[str]:
    """The orchestrator's durable event log alone on a port, in its own process."""
    address = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen([sys.executable, "-m", "mediagrid.reference.orchestrator.events.serve",
                             "--state", str(tmp_path / "events.sqlite"), "--address", address],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert proc.stdout is not None and b"ready on" in proc.stdout.readline()
        yield address
    finally:
        proc.terminate()
        proc.wait(10)


def delivered(address: str) -> set[tuple[str, int]]:
    """(instance, sequence) of every report in the log, read from the oldest to the live end."""
    seen: set[tuple[str, int]] = set()
    with grpc.insecure_channel(address) as channel:
        stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
        request = orchestrator_pb2.SubscribeToEventsRequest(since_cursor="0")
        request.filter.include_status = request.filter.include_metrics = True
        stream = stub.SubscribeToEvents(request, timeout=20)
        for message in stream:
            for envelope in message.envelopes:
                header = envelope.report.header
                seen.add((header.instance_id, header.sequence))
            if message.bookmark:
                stream.cancel()
                break
    return seen


def acked(lines: list[dict]) -> set[tuple[str, int]]:
    return {(line["instance"], seq) for line in lines if line["kind"] == "ack"
            for seq in range(line["first"], line["last"] + 1)}


def test_acknowledged_reports_are_in_the_log_and_a_blackout_holds_them(tmp_path: Path) -> None:
    with event_bus(tmp_path) as address, \
            sim(tmp_path / "m", env={"MEDIAGRID_ORCHESTRATOR_ADDRESS": address}) as module:
        module.wait_state(READY)
        module.create("cam-1")
        assert wait_until(lambda: len(acked(module.journal())) >= 2, 10)  # CREATED + status
        module.control("SetFaults", {"reports": {"blackout": True}})
        before = acked(module.journal())
        module.create("cam-2")
        assert not wait_until(lambda: acked(module.journal()) != before, 1.0)  # held back
        module.control("ClearFaults")
        assert wait_until(lambda: len(acked(module.journal())) >= len(before) + 2, 10)
        truth = acked(module.journal())
        assert truth <= delivered(address)
        sequences = sorted(seq for _, seq in truth)
        assert sequences == list(range(1, len(sequences) + 1))  # nothing lost on the way
