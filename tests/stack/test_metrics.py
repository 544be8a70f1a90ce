"""The orchestrator's /metrics endpoint parses with prometheus-client's own parser and says
what a dashboard needs: modules by state and health, restarts, reports, subscribers and
flows with their live numbers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc
import yaml
from prometheus_client.parser import text_string_to_metric_families

from mediagrid.reference.orchestrator.metrics import MetricsServer
from mediagrid.reference.orchestrator.monitoring.flows import MonitorSettings
from mediagrid.reference.stacks.apply import StackApplier
from mediagrid.reference.stacks.model import load_stack
from mediagrid.v1 import event_pb2, event_pb2_grpc, orchestrator_pb2
from tests.orchestrator.conftest import client, orchestrator, ready, run, write_module
from tests.stack.helpers import kind, write_pipes
from tests.support import eventually

op = orchestrator_pb2


async def scrape(address: str, path: str = "/metrics") -> tuple[str, str]:
    host, port = address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n".encode())
    raw = await reader.read()
    writer.close()
    head, _, body = raw.decode().partition("\r\n\r\n")
    return head.splitlines()[0], body


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


async def report_with_gaps(address: str) -> None:
    """Reports 1 and 5 of an instance; the WARNING at 5 declares one dropped report."""
    async with grpc.aio.insecure_channel(address) as channel:
        events = event_pb2_grpc.EventServiceStub(channel)
        for sequence, kind_, details in ((1, event_pb2.EVENT_TYPE_INFO, {}),
                                         (5, event_pb2.EVENT_TYPE_WARNING,
                                          {"dropped_reports": "1", "first_dropped": "4",
                                           "last_dropped": "4"})):
            request = event_pb2.ReportEventRequest(event=event_pb2.Event(
                id=f"probe-{sequence}", type=kind_, message="probe", details=details))
            request.event.timestamp.GetCurrentTime()
            request.header.module_id, request.header.instance_id = "probe", "probe-1"
            request.header.sequence = sequence
            await events.ReportEvent(request, timeout=10)


async def deleted_cleanly(stub: Any, pipeline_id: str) -> None:
    """DeletePipeline stops the flow before it removes its connections, so no module sees a
    connection vanish under a running flow (an ERROR event); the flow monitor says STOPPED."""
    request = op.SubscribeToEventsRequest(since_cursor="0")
    request.filter.flow_id = pipeline_id
    await stub.DeletePipeline(op.DeletePipelineRequest(pipeline_id=pipeline_id), timeout=30)
    seen: list[tuple[str, int, str]] = []  # (module, event type, new state)
    stream = stub.SubscribeToEvents(request)
    async with asyncio.timeout(20):
        async for message in stream:
            seen += [(e.report.header.module_id, e.report.event.type,
                      e.report.event.details.get("new_state", "")) for e in message.envelopes]
            stopped = {m for m, kind_, _ in seen if kind_ == event_pb2.EVENT_TYPE_FLOW_STOPPED}
            if stopped >= {"cams", "screens"} and \
                    any(state == "STOPPED" for *_, state in seen):
                break
    stream.cancel()
    assert not [s for s in seen if s[1] == event_pb2.EVENT_TYPE_ERROR], seen


def test_metrics_parse_and_count_modules_reports_and_flows(tmp_path: Path) -> None:
    write_pipes(tmp_path / "mods", "cams", {"cam": kind("source", ["h264"])})
    write_pipes(tmp_path / "mods", "screens", {"screen": kind("sink", ["h264"])})
    write_module(tmp_path / "mods", "late", types=("thing",), env={"START_DELAY": "600"})
    # The pipeline comes from a stack file, applied twice as `mediagrid up --stack` does
    # with the same state file: the second finds what the first made.
    (tmp_path / "stack.yaml").write_text(yaml.safe_dump({
        "stack": "m", "modules": ["mods"],
        "entities": [{"id": "cam", "module": "cams", "type": "cam"},
                     {"id": "screen", "module": "screens", "type": "screen"}],
        "pipelines": [{"id": "p", "source": "cam", "sink": "screen",
                       "quality": {"bitrate": "2M", "size": "320x240"}}]}))

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods", bus="real") as app, \
                client(app) as stub:
            app.monitor.settings = MonitorSettings(period=0.2)
            server = MetricsServer(app, "127.0.0.1:0")
            await server.start()
            try:
                await ready(app, "cams", "screens")
                stack = load_stack(tmp_path / "stack.yaml")
                first = await StackApplier(stack, stub).apply()
                again = await StackApplier(stack, stub).apply()
                assert first.pipelines == again.pipelines == {
                    "p": ["cams/cam -> screens/screen: video:h264 over mpegts-udp"]}
                [connection] = (await stub.ListConnections(op.ListConnectionsRequest())).connections
                assert connection.quality.bitrate == 2_000_000
                assert connection.quality.resolution.width == 320
                await eventually(lambda: app.monitor.latest("p") is not None, 20)
                # A module instance that lost reports 2 to 4 and owns up to one of them (E-22).
                await report_with_gaps(app.address)
                before = app.bus.stats()
                status, text = await scrape(server.address)
                assert status == "HTTP/1.1 200 OK"
                found = samples(text)
                assert found[("mediagrid_modules", (("health", "HEALTHY"), ("state", "READY")))] \
                    == 2
                assert found[("mediagrid_module_up", (("module", "cams"),))] == 1
                assert found[("mediagrid_module_up", (("module", "late"),))] == 0
                assert found[("mediagrid_module_restarts_total", (("module", "cams"),))] == 0
                after = app.bus.stats()
                accepted = found[("mediagrid_reports_accepted_total", ())]
                published = found[("mediagrid_reports_published_total", ())]
                assert 0 < before.accepted <= accepted <= after.accepted
                assert 0 < before.published <= published <= after.published
                assert found[("mediagrid_report_gaps", (("declared", "true"),))] == 1
                assert found[("mediagrid_report_gaps", (("declared", "false"),))] == 2
                assert ("mediagrid_event_subscribers", ()) in found
                # pipes.py moves no media: the flow is INITIALIZING, fps 0, latency unmeasured.
                assert found[("mediagrid_flow_fps", (("flow", "p"),))] == 0
                assert found[("mediagrid_flow_latency_ms", (("flow", "p"),))] == -1
                assert found[("mediagrid_flow_state", (("flow", "p"),
                                                       ("state", "INITIALIZING")))] == 1
                missing, _ = await scrape(server.address, "/other")
                assert missing == "HTTP/1.1 404 Not Found"
                await deleted_cleanly(stub, "p")
            finally:
                await server.stop()

    run(body())
