"""Flow monitoring (rule E-25) with real media: a pipeline across two module processes of the
hello example; its merged state and live numbers reach the event stream, and when the sink's
module is SIGKILLed a subscriber sees the flow turn ERROR and come back ACTIVE by itself
(desired state, H-15), without polling."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import yaml

from mediagrid.reference.orchestrator.broker.flows import merge
from mediagrid.reference.orchestrator.desired_state import ConnectionRecord, FlowRecord
from mediagrid.reference.orchestrator.monitoring.flows import MonitorSettings
from mediagrid.v1 import common_pb2, event_pb2, orchestrator_pb2, pipeline_pb2
from tests.orchestrator.conftest import client, orchestrator, ready, run
from tests.stack.helpers import FAST, make, ref
from tests.support import ROOT

op = orchestrator_pb2
HELLO = ROOT / "examples" / "python" / "hello"
ACTIVE, ERROR = pipeline_pb2.FLOW_STATE_ACTIVE, pipeline_pb2.FLOW_STATE_ERROR


def hello(root: Path, module_id: str) -> None:
    folder = root / module_id
    folder.mkdir(parents=True)
    document = yaml.safe_load((HELLO / "module.yaml").read_text())
    document.update(id=module_id, command=["{python}", str(HELLO / "module.py")],
                    supervision=FAST)
    (folder / "module.yaml").write_text(yaml.safe_dump(document))


def test_e25_flow_state_and_samples_in_the_stream_and_recovery_after_sigkill(
        tmp_path: Path) -> None:
    hello(tmp_path / "mods", "camera")
    hello(tmp_path / "mods", "screen")

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods", bus="real") as app, \
                client(app) as stub:
            app.monitor.settings = MonitorSettings(period=0.25, sample_every=1.0)
            await ready(app)
            await make(stub, "camera", "testsrc", "pattern", size="160x120", rate="25")
            await make(stub, "screen", "null", "void")
            subscription = op.SubscribeToEventsRequest(since_cursor="0", subscriber="test")
            subscription.filter.flow_id = "look"
            subscription.filter.include_metrics = True
            stream = stub.SubscribeToEvents(subscription)
            await stub.CreatePipeline(op.CreatePipelineRequest(
                pipeline_id="look", source=ref("camera", "pattern"), sink=ref("screen", "void"),
                start=True), timeout=30)
            changes: list[tuple[str, str]] = []
            samples: list[event_pb2.Metrics] = []
            severities: dict[tuple[str, str], int] = {}

            async def until(done: object) -> None:
                async for message in stream:
                    for envelope in message.envelopes:
                        report = envelope.report
                        own = report.header.instance_id == app.bus.orchestrator_instance_id
                        if report.HasField("metrics") and own:  # not the modules' own
                            samples.append(report.metrics)
                        elif report.event.type == event_pb2.EVENT_TYPE_FLOW_STATE_CHANGED:
                            details = report.event.details
                            changes.append((details["old_state"], details["new_state"]))
                            severities[changes[-1]] = report.event.severity
                    if done():  # type: ignore[operator]
                        return

            await asyncio.wait_for(until(lambda: ("INITIALIZING", "ACTIVE") in changes and
                                         any(s.metrics["fps"].double_value > 0 for s in samples)),
                                   40)
            sample = next(s for s in samples if s.metrics["fps"].double_value > 0)
            assert sample.flow_id == "look" and sample.module_id == "screen"
            assert sample.metrics["state"].string_value == "ACTIVE"
            assert sample.metrics["frames"].int_value > 0
            flow = (await stub.GetFlowStatus(op.OrchestratorServiceGetFlowStatusRequest(
                flow_id="look"))).flow
            assert flow.status.state == ACTIVE and flow.metrics.fps > 0

            pid = app.modules.get("screen").view.pid
            os.kill(pid, signal.SIGKILL)
            try:
                await asyncio.wait_for(until(lambda: ("ACTIVE", "ERROR") in changes and
                                             changes[-1][1] == "ACTIVE"), 60)
            except TimeoutError:
                raise AssertionError(f"changes seen: {changes}") from None
            # Severity ERROR when it turns ERROR (E-25), INFO when it is back.
            assert severities[("ACTIVE", "ERROR")] == event_pb2.EVENT_SEVERITY_ERROR
            assert severities[changes[-1]] == event_pb2.EVENT_SEVERITY_INFO
            # The merged view named the module that was down while it was.
            assert app.modules.get("screen").view.pid != pid
            stream.cancel()

    run(body())


# -- added by the mutation audit of issue 11 ------------------------------------------------


def part(*connections: tuple[str, int, float, int], state: int = ACTIVE) -> pipeline_pb2.Flow:
    """One module's part of a flow: (connection id, bitrate, fps, latency) as it measures."""
    flow = pipeline_pb2.Flow(id="f")
    flow.status.state = state
    for cid, bitrate, fps, latency in connections:
        flow.connections.add(id=cid).metrics.MergeFrom(pipeline_pb2.ConnectionMetrics(
            bitrate_bps=bitrate, fps=fps, latency_ms=latency, frames=int(fps * 10)))
    return flow


def test_e25_the_merged_flow_reads_the_last_connection_and_sums_the_bandwidth() -> None:
    """cams -> conv (a converter raising 10 fps to 25) -> screens. Each connection is taken
    as its target's module measures it; fps and latency are the last connection's, not the
    first's nor the smallest; the bandwidth is the sum over the connections."""
    record = FlowRecord("f", "", ("f-1", "f-2"), {"cams": "f", "conv": "f", "screens": "f"})
    video = common_pb2.MEDIA_TYPE_VIDEO
    connections = [ConnectionRecord("f-1", "cams", "cam", "conv", "c1", video,
                                    common_pb2.QualityProfile()),
                   ConnectionRecord("f-2", "conv", "c1", "screens", "screen", video,
                                    common_pb2.QualityProfile())]
    parts: dict[str, pipeline_pb2.Flow | str] = {
        "cams": part(("f-1", 999, 99.0, 99)),  # the source's own view: not what arrives
        "conv": part(("f-1", 1000, 10.0, 5), ("f-2", 7, 7.0, 7)),
        "screens": part(("f-2", 300, 25.0, 40)),
    }
    flow = merge(record, connections, parts)
    assert [(c.id, c.metrics.bitrate_bps) for c in flow.connections] == [("f-1", 1000),
                                                                         ("f-2", 300)]
    assert (flow.metrics.fps, flow.metrics.frames, flow.status.latency_ms) == (25.0, 250, 40)
    assert flow.status.bandwidth_usage == 1300
    assert flow.status.state == ACTIVE
    # A part's module down: ERROR naming it; a part in ERROR: ERROR with its message.
    down = merge(record, connections, {**parts, "conv": "module 'conv' is STARTING"})
    assert (down.status.state, down.status.error_message) == (ERROR, "module 'conv' is STARTING")
    failed = part(("f-2", 0, 0.0, -1), state=ERROR)
    failed.status.error_message = "decoder gave up"
    broken = merge(record, connections, {**parts, "screens": failed})
    assert (broken.status.state, broken.status.error_message) == (ERROR, "decoder gave up")
