"""The suite plays the orchestrator's EventService: a real grpc.aio server that records every
report with its header, deduplicates like the orchestrator (rule E-4), checks the token when
asked (S-3), and can refuse reports or go away for a while and come back (E-3, E-5).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from mediagrid.process import free_port
from mediagrid.v1 import event_pb2, event_pb2_grpc


@dataclass(frozen=True)
class Attempt:
    """One report as it arrived, accepted or not."""

    report: event_pb2.ModuleReport
    at: float  # time.monotonic() of arrival
    rpc: str  # event, status, metrics, batch
    outcome: str  # accepted, duplicate, refused, rejected, unauthenticated
    authorization: str
    batch_size: int
    call: int  # the number of the call that brought it (a batch shares one)
    deadline: float | None = None  # seconds the caller left for the call (E-23), None: none

    @property
    def sequence(self) -> int:
        return self.report.header.sequence

    @property
    def instance(self) -> str:
        return self.report.header.instance_id


def about_entity(report: event_pb2.ModuleReport) -> str:
    """The entity a report is about ('' when none)."""
    kind = report.WhichOneof("report")
    if kind == "event":
        return report.event.source_entity_id
    if kind == "status":
        return report.status.entity_id
    if kind == "metrics":
        return report.metrics.entity_id
    return ""


def describe(report: event_pb2.ModuleReport) -> str:
    """One line: '#12 ENTITY_CREATED about cam-1'."""
    kind = report.WhichOneof("report")
    what = kind or "empty"
    if kind == "event":
        what = event_pb2.EventType.Name(report.event.type).removeprefix("EVENT_TYPE_")
    entity = about_entity(report)
    return f"#{report.header.sequence} {what}" + (f" about {entity}" if entity else "")


@dataclass
class EventRecorder(event_pb2_grpc.EventServiceServicer):
    token: str = ""
    attempts: list[Attempt] = field(default_factory=list)
    refuse_next: int = 0  # calls to answer UNAVAILABLE (the report is recorded as refused)
    reject_next: int = 0  # calls to answer INVALID_ARGUMENT (recorded as rejected, E-23)
    calls: int = 0
    _highest: dict[str, int] = field(default_factory=dict)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    # -- what checks read -----------------------------------------------------------------
    def accepted(self, instance: str | None = None) -> list[event_pb2.ModuleReport]:
        return [a.report for a in self.attempts
                if a.outcome == "accepted" and (instance is None or a.instance == instance)]

    def instances(self) -> list[str]:
        return list(dict.fromkeys(a.instance for a in self.attempts))

    async def wait_for(self, predicate: Callable[[], bool], within: float) -> bool:
        """Waits until predicate() holds, re-testing on each arrival; False after `within`."""
        deadline = time.monotonic() + within
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            changed = self._changed
            try:
                async with asyncio.timeout(min(remaining, 0.2)):
                    await changed.wait()
            except TimeoutError:
                pass
        return True

    # -- the service ------------------------------------------------------------------------
    async def _take(self, context: grpc.aio.ServicerContext, rpc: str,
                    reports: list[event_pb2.ModuleReport]) -> tuple[int, int]:
        now = time.monotonic()
        auth = dict(context.invocation_metadata() or ()).get("authorization", "")
        refused = self.refuse_next > 0
        rejected = not refused and self.reject_next > 0
        deadline = context.time_remaining()
        unauthenticated = bool(self.token) and auth != f"Bearer {self.token}"
        accepted = duplicates = 0
        self.calls += 1
        for report in reports:
            if refused or rejected or unauthenticated:
                outcome = ("refused" if refused else "rejected" if rejected
                           else "unauthenticated")
            elif report.header.sequence <= self._highest.get(report.header.instance_id, 0):
                outcome, duplicates = "duplicate", duplicates + 1
            else:
                self._highest[report.header.instance_id] = report.header.sequence
                outcome, accepted = "accepted", accepted + 1
            self.attempts.append(Attempt(report, now, rpc, outcome, auth, len(reports),
                                         self.calls, deadline))
        self._changed.set()
        self._changed = asyncio.Event()
        if refused:
            self.refuse_next -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "refused by the conformance suite")
        if rejected:
            self.reject_next -= 1
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "rejected by the conformance suite (rule E-23: do not retry)")
        if unauthenticated:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED,
                                "missing or wrong bearer token (rule S-3)")
        return accepted, duplicates

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
    """Serves an EventRecorder on one loopback port; `drop()` and `restore()` keep the port,
    so the module under test sees the orchestrator go away and come back."""

    def __init__(self, recorder: EventRecorder, port: int = 0, host: str = "127.0.0.1",
                 credentials: grpc.ServerCredentials | None = None) -> None:
        self.recorder, self.host, self.credentials = recorder, host, credentials
        self.port = port or free_port(host)
        self._server: grpc.aio.Server | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def up(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        event_pb2_grpc.add_EventServiceServicer_to_server(self.recorder, server)
        if self.credentials is None:
            server.add_insecure_port(self.address)
        else:
            server.add_secure_port(self.address, self.credentials)
        await server.start()
        self._server = server

    async def drop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            await server.stop(grace=None)

    async def restore(self) -> None:
        if self._server is None:
            for _ in range(50):  # the old socket may linger a moment after stop()
                try:
                    await self.start()
                    return
                except RuntimeError:
                    await asyncio.sleep(0.05)
            await self.start()

    async def stop(self) -> None:
        await self.drop()
