"""A pipeline across three module processes of the reference stack carries real media end to
end: sources/testsrc -> transcoder/transcode -> recorder/file, planned and built by
CreatePipeline (P-12). The transcoder's module is SIGKILLed mid-flow: the event stream shows
the flow turn ERROR and come back ACTIVE by itself (H-15, E-25), and the recording, checked
with ffprobe, holds the transcoder's picture size."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from mediagrid.reference.orchestrator.metrics import MetricsServer
from mediagrid.reference.orchestrator.monitoring.flows import MonitorSettings
from mediagrid.reference.stacks.model import reference_modules
from mediagrid.v1 import entity_pb2, event_pb2, orchestrator_pb2
from tests.orchestrator.conftest import client, orchestrator, ready, run
from tests.stack.helpers import make, ref
from tests.stack.test_metrics import samples, scrape
from tests.support import ffprobe_json

op = orchestrator_pb2


def test_p12_three_modules_real_media_and_a_sigkilled_transcoder_recovers(
        tmp_path: Path) -> None:
    recording = tmp_path / "rec.mkv"

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", reference_modules(),
                                bus="real") as app, client(app) as stub:
            app.monitor.settings = MonitorSettings(period=0.25, sample_every=2.0)
            await ready(app, "sources", "transcoder", "recorder", within=60)
            await make(stub, "sources", "testsrc", "pattern", size="320x240", rate="25")
            await make(stub, "transcoder", "transcode", "small", size="160x120", bitrate="300k")
            await make(stub, "recorder", "file", "rec", path=str(recording))
            request = op.SubscribeToEventsRequest(since_cursor="0")
            request.filter.flow_id = "tape"
            request.filter.event_types.append(event_pb2.EVENT_TYPE_FLOW_STATE_CHANGED)
            stream = stub.SubscribeToEvents(request)
            made = await stub.CreatePipeline(op.CreatePipelineRequest(
                pipeline_id="tape", source=ref("sources", "pattern"), sink=ref("recorder", "rec"),
                via=[ref("transcoder", "small")], start=True), timeout=60)
            assert [c.target_module_id for c in made.flow.connections] == ["transcoder",
                                                                           "recorder"]
            changes: list[str] = []

            async def until(done: object) -> None:
                async for message in stream:
                    changes.extend(e.report.event.details["new_state"] for e in message.envelopes)
                    if done():  # type: ignore[operator]
                        return

            try:
                await asyncio.wait_for(until(lambda: "ACTIVE" in changes), 40)
                pid = app.modules.get("transcoder").view.pid
                os.kill(pid, signal.SIGKILL)
                await asyncio.wait_for(until(lambda: "ERROR" in changes and
                                             changes[-1] == "ACTIVE"), 60)
            except TimeoutError:
                raise AssertionError(f"flow states seen: {changes}") from None
            stream.cancel()
            # ACTIVE again means media was measured; the merged rates are windowed, so they
            # may read 0 for the first instant after the switch: poll for them.
            flow = None
            for _ in range(100):
                flow = (await stub.GetFlowStatus(op.OrchestratorServiceGetFlowStatusRequest(
                    flow_id="tape"))).flow
                if flow.metrics.fps > 0 and flow.status.bandwidth_usage > 0:
                    break
                await asyncio.sleep(0.1)
            assert flow is not None and flow.metrics.fps > 0 and flow.status.bandwidth_usage > 0
            # /metrics: the transcoder's restart counted; the bitrate is what reaches the sink
            # (the last hop), the bandwidth that of both hops.
            server = MetricsServer(app, "127.0.0.1:0")
            await server.start()
            try:
                found: dict = {}
                for _ in range(100):
                    found = samples((await scrape(server.address))[1])
                    bitrate = found.get(("mediagrid_flow_bitrate_bps", (("flow", "tape"),)), 0)
                    bandwidth = found[("mediagrid_flow_bandwidth_bps", (("flow", "tape"),))]
                    if 0 < bitrate < bandwidth:
                        break
                    await asyncio.sleep(0.1)
                assert 0 < bitrate < bandwidth, (bitrate, bandwidth)
                assert found[("mediagrid_module_restarts_total", (("module", "transcoder"),))] \
                    == 1
                assert found[("mediagrid_module_restarts_total", (("module", "recorder"),))] == 0
            finally:
                await server.stop()
            status = await stub.GetEntityStatus(op.OrchestratorServiceGetEntityStatusRequest(
                module_id="recorder", request=entity_pb2.GetEntityStatusRequest(entity_id="rec")))
            assert status.response.status.metrics["file"].string_value == str(recording)
            await stub.DeletePipeline(op.DeletePipelineRequest(pipeline_id="tape"), timeout=30)

    run(body())
    probe = ffprobe_json(recording)
    video = probe["streams"][0]
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 160, 120)
    assert float(probe["format"]["duration"]) > 1.0
