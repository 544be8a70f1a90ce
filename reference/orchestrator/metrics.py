"""The orchestrator's Prometheus endpoint: `GET /metrics` in the text exposition format
(prometheus-client's own encoder), read from the orchestrator's state at each scrape.

    mediagrid_modules{state="READY",health="HEALTHY"} 3
    mediagrid_module_up{module="sources"} 1
    mediagrid_module_restarts_total{module="sources"} 0
    mediagrid_reports_accepted_total 1234          (reports in: modules' reports logged)
    mediagrid_reports_published_total 56           (reports out: the orchestrator's own)
    mediagrid_reports_duplicate_total 0
    mediagrid_report_gaps{declared="false"} 0
    mediagrid_event_subscribers 2
    mediagrid_event_subscribers_lagged_total 0
    mediagrid_flow_fps{flow="demo-video"} 25.0
    mediagrid_flow_bitrate_bps{flow="demo-video"} 812000
    mediagrid_flow_latency_ms{flow="demo-video"} 180
    mediagrid_flow_state{flow="demo-video",state="ACTIVE"} 1

The server is a few lines of asyncio (no thread): a scrape runs in the orchestrator's event
loop, so it reads the state without locks. Only `/metrics` is served; anything else is 404.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from mediagrid.reference.orchestrator.modules import READY, health_name, state_name
from mediagrid.reference.orchestrator.monitoring.flows import flow_state
from mediagrid.reference.orchestrator.settings import dial_address, split_address

if TYPE_CHECKING:
    from mediagrid.reference.orchestrator.app import Orchestrator


class OrchestratorCollector(Collector):
    def __init__(self, app: Orchestrator) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        views = [s.view for s in self.app.modules]
        counts = Counter((state_name(v.state), health_name(v.health)) for v in views)
        modules = GaugeMetricFamily("mediagrid_modules", "Modules by state and health",
                                    labels=["state", "health"])
        for (state, health), n in sorted(counts.items()):
            modules.add_metric([state, health], n)
        yield modules
        up = GaugeMetricFamily("mediagrid_module_up", "1 while the module is READY",
                               labels=["module"])
        restarts = CounterMetricFamily("mediagrid_module_restarts",
                                       "Restarts the orchestrator made", labels=["module"])
        for v in views:
            up.add_metric([v.id], 1 if v.state == READY else 0)
            restarts.add_metric([v.id], v.restart_count)
        yield up
        yield restarts
        yield from self._events()
        yield from self._flows()

    def _events(self) -> Iterator[Metric]:
        stats_of = getattr(self.app.bus, "stats", None)
        if stats_of is None:
            return
        stats = stats_of()
        yield CounterMetricFamily("mediagrid_reports_accepted",
                                  "Module reports written to the event log (reports in)",
                                  value=stats.accepted)
        yield CounterMetricFamily("mediagrid_reports_published",
                                  "Reports the orchestrator made itself (reports out)",
                                  value=getattr(stats, "published", 0))
        yield CounterMetricFamily("mediagrid_reports_duplicate",
                                  "Repeated reports acknowledged and dropped (rule E-4)",
                                  value=stats.duplicates)
        gaps = GaugeMetricFamily("mediagrid_report_gaps", "Sequence numbers never received",
                                 labels=["declared"])
        gaps.add_metric(["true"], stats.gaps - stats.undeclared_gaps)
        gaps.add_metric(["false"], stats.undeclared_gaps)
        yield gaps
        yield GaugeMetricFamily("mediagrid_event_subscribers", "Event stream subscribers now",
                                value=stats.subscribers)
        yield CounterMetricFamily("mediagrid_event_subscribers_lagged",
                                  "Subscribers cut off for falling behind (rule E-15)",
                                  value=stats.lagged)
        yield GaugeMetricFamily("mediagrid_events_retained",
                                "Envelopes in the retained window", value=stats.retained)

    def _flows(self) -> Iterator[Metric]:
        monitor = getattr(self.app, "monitor", None)
        flows = monitor.running() if monitor is not None else []
        families = {
            "fps": GaugeMetricFamily("mediagrid_flow_fps", "Frames per second at the sink",
                                     labels=["flow"]),
            "bitrate": GaugeMetricFamily("mediagrid_flow_bitrate_bps",
                                         "Bits per second arriving at the sink",
                                         labels=["flow"]),
            "bandwidth": GaugeMetricFamily("mediagrid_flow_bandwidth_bps",
                                           "Bits per second over all the flow's connections",
                                           labels=["flow"]),
            "latency": GaugeMetricFamily("mediagrid_flow_latency_ms",
                                         "Source-to-sink latency (-1: not measured)",
                                         labels=["flow"]),
        }
        state = GaugeMetricFamily("mediagrid_flow_state", "1 for the flow's merged state",
                                  labels=["flow", "state"])
        for flow in flows:
            last = flow.connections[-1].metrics.bitrate_bps if flow.connections else 0
            families["fps"].add_metric([flow.id], flow.metrics.fps)
            families["bitrate"].add_metric([flow.id], last)
            families["bandwidth"].add_metric([flow.id], flow.status.bandwidth_usage)
            families["latency"].add_metric([flow.id], flow.status.latency_ms)
            state.add_metric([flow.id, flow_state(flow.status.state)], 1)
        yield from families.values()
        yield state


class MetricsServer:
    """`GET /metrics` on host:port (port 0 picks a free one; `address` says which)."""

    def __init__(self, app: Orchestrator, address: str) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(OrchestratorCollector(app))
        self.host, self.port = split_address(address)
        self._server: asyncio.Server | None = None
        self.address = ""

    @property
    def url(self) -> str:
        return f"http://{self.address}/metrics"

    async def start(self) -> None:
        """Raises OSError when the address cannot be bound."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        port = self._server.sockets[0].getsockname()[1]
        self.address = dial_address(self.host, port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                request = await reader.readline()
                while (await reader.readline()).strip():  # headers: not needed
                    pass
            method, path = ([*request.decode("latin-1").split(), "", ""])[:2]
            if method not in ("GET", "HEAD") or path.split("?")[0] != "/metrics":
                body, status, kind = b"only GET /metrics is served here\n", "404 Not Found", \
                    "text/plain; charset=utf-8"
            else:
                body, status, kind = generate_latest(self.registry), "200 OK", CONTENT_TYPE_LATEST
            head = (f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}"
                    "\r\nConnection: close\r\n\r\n").encode()
            writer.write(head + (body if method != "HEAD" else b""))
            await writer.drain()
        except (TimeoutError, ConnectionError, UnicodeDecodeError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
