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

from mediagrid.reference.orchestrator.monitoring.flows import MonitorSettings
from mediagrid.v1 import event_pb2, orchestrator_pb2, pipeline_pb2
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
            # The merged view named the module that was down while it was.
            assert app.modules.get("screen").view.pid != pid
            stream.cancel()

    run(body())
