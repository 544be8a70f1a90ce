"""A real grpc.aio EventService for tests: records what it accepts, fails on command.

It deduplicates like the orchestrator (by instance_id and sequence <= highest accepted), so
`accepted` is exactly what would reach the event stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc

from mediagrid.v1 import event_pb2, event_pb2_grpc


@dataclass
class Recorder(event_pb2_grpc.EventServiceServicer):
    accepted: list[event_pb2.ModuleReport] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    duplicates: int = 0
    fail_next: int = 0
    fail_code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE
    token: str = ""
    deadlines: list[float | None] = field(default_factory=list)
    metadata_seen: list[str] = field(default_factory=list)
    _highest: dict[str, int] = field(default_factory=dict)

    @property
    def sequences(self) -> list[int]:
        return [r.header.sequence for r in self.accepted]

    async def _take(self, context: grpc.aio.ServicerContext, kind: str,
                    reports: list[event_pb2.ModuleReport]) -> tuple[int, int]:
        self.calls.append(kind)
        auth = dict(context.invocation_metadata() or ()).get("authorization", "")
        self.metadata_seen.append(auth)
        self.deadlines.append(context.time_remaining())
        if self.fail_next > 0:
            self.fail_next -= 1
            await context.abort(self.fail_code, "failing on command")
        if self.token and auth != f"Bearer {self.token}":
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "bad token")
        accepted = dups = 0
        for report in reports:
            h = report.header
            if h.sequence <= self._highest.get(h.instance_id, 0):
                dups += 1
                continue
            self._highest[h.instance_id] = h.sequence
            self.accepted.append(report)
            accepted += 1
        self.duplicates += dups
        return accepted, dups

    async def ReportEvent(self, request, context):  # type: ignore[no-untyped-def]
        report = event_pb2.ModuleReport(header=request.header, event=request.event)
        _, dups = await self._take(context, "event", [report])
        return event_pb2.ReportEventResponse(duplicate=bool(dups))

    async def ReportStatus(self, request, context):  # type: ignore[no-untyped-def]
        report = event_pb2.ModuleReport(header=request.header, status=request.status)
        _, dups = await self._take(context, "status", [report])
        return event_pb2.ReportStatusResponse(duplicate=bool(dups))

    async def ReportMetrics(self, request, context):  # type: ignore[no-untyped-def]
        report = event_pb2.ModuleReport(header=request.header, metrics=request.metrics)
        _, dups = await self._take(context, "metrics", [report])
        return event_pb2.ReportMetricsResponse(duplicate=bool(dups))

    async def ReportBatch(self, request, context):  # type: ignore[no-untyped-def]
        accepted, dups = await self._take(context, "batch", list(request.reports))
        return event_pb2.ReportBatchResponse(accepted=accepted, duplicates=dups)


class EventServer:
    """Serves one Recorder on a fixed loopback port; stop() and start() keep the port."""

    def __init__(self, port: int, recorder: Recorder | None = None) -> None:
        self.port = port
        self.recorder = recorder or Recorder()
        self._server: grpc.aio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        event_pb2_grpc.add_EventServiceServicer_to_server(self.recorder, server)
        server.add_insecure_port(self.address)
        await server.start()
        self._server = server

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=None)
            self._server = None
