"""The orchestrator's /metrics endpoint parses with prometheus-client's own parser and says
what a dashboard needs: modules by state and health, restarts, reports, subscribers and
flows with their live numbers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from mediagrid.reference.orchestrator.metrics import MetricsServer
from mediagrid.reference.orchestrator.monitoring.flows import MonitorSettings
from mediagrid.v1 import orchestrator_pb2
from tests.orchestrator.conftest import client, orchestrator, ready, run
from tests.stack.helpers import kind, make, ref, write_pipes
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


def test_metrics_parse_and_count_modules_reports_and_flows(tmp_path: Path) -> None:
    write_pipes(tmp_path / "mods", "cams", {"cam": kind("source", ["h264"])})
    write_pipes(tmp_path / "mods", "screens", {"screen": kind("sink", ["h264"])})

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods", bus="real") as app, \
                client(app) as stub:
            app.monitor.settings = MonitorSettings(period=0.2)
            server = MetricsServer(app, "127.0.0.1:0")
            await server.start()
            try:
                await ready(app)
                await make(stub, "cams", "cam", "cam")
                await make(stub, "screens", "screen", "screen")
                await stub.CreatePipeline(op.CreatePipelineRequest(
                    pipeline_id="p", source=ref("cams", "cam"), sink=ref("screens", "screen"),
                    start=True), timeout=30)
                await eventually(lambda: app.monitor.latest("p") is not None, 20)
                status, text = await scrape(server.address)
                assert status == "HTTP/1.1 200 OK"
                found = samples(text)
                assert found[("mediagrid_modules", (("health", "HEALTHY"), ("state", "READY")))] \
                    == 2
                assert found[("mediagrid_module_up", (("module", "cams"),))] == 1
                assert found[("mediagrid_module_restarts_total", (("module", "cams"),))] == 0
                assert found[("mediagrid_reports_accepted_total", ())] > 0
                assert found[("mediagrid_reports_published_total", ())] > 0
                assert ("mediagrid_event_subscribers", ()) in found
                # pipes.py moves no media: the flow is INITIALIZING, fps 0, latency unmeasured.
                assert found[("mediagrid_flow_fps", (("flow", "p"),))] == 0
                assert found[("mediagrid_flow_latency_ms", (("flow", "p"),))] == -1
                assert found[("mediagrid_flow_state", (("flow", "p"),
                                                       ("state", "INITIALIZING")))] == 1
                missing, _ = await scrape(server.address, "/other")
                assert missing == "HTTP/1.1 404 Not Found"
            finally:
                await server.stop()

    run(body())
