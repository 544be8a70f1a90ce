"""EventService: the reports modules send, checked, then written to the log (E-4, E-24).

A call is answered only after its reports are committed to the log (or found to be repeats),
so an acknowledgement survives an orchestrator kill. A call the orchestrator will never accept
is refused whole with INVALID_ARGUMENT naming the report and the rule, and nothing of it is
written; the module drops it and declares the drop (E-23, E-22). While the bus is closing, or
when the log cannot be written, the call is UNAVAILABLE and the module's reporter retries it
with the same sequence numbers (E-3). A gap before a call's first sequence is accepted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from mediagrid.reference.orchestrator.events.log import AppendOutcome, LogWriteError
from mediagrid.reference.orchestrator.events.writer import BusClosed
from mediagrid.v1 import event_pb2, event_pb2_grpc

MAX_BATCH = 500  # rule E-10
MAX_ID_LENGTH = 128
# A report's envelope goes to subscribers in a stream message under 4 MiB (rule S-5) with its
# cursor and receive time: a larger report could never be delivered (rule E-24).
MAX_REPORT_BYTES = 4 * 1024 * 1024 - 64 * 1024

Append = Callable[[list[event_pb2.ModuleReport]], Awaitable[AppendOutcome]]


def check_reports(reports: list[event_pb2.ModuleReport]) -> str | None:
    """What makes a call's reports never acceptable (rule E-24), naming the report and the
    fix; None when they can be taken. A gap BEFORE the call is fine (E-22), one inside is not."""
    if not reports:
        return "a ReportBatch needs at least one report"
    if len(reports) > MAX_BATCH:
        return (f"a ReportBatch holds at most {MAX_BATCH} reports (rules E-10, E-24), this one "
                f"{len(reports)}: send them in several batches")
    first = reports[0].header
    for i, report in enumerate(reports):
        h = report.header
        where = f"report {i}" if len(reports) > 1 else "the report"
        if not h.module_id or not h.instance_id:
            return (f"{where}: header.module_id and header.instance_id must be set (rules E-1, "
                    "E-24): MEDIAGRID_MODULE_ID and the ModuleStatus.instance_id")
        if len(h.module_id) > MAX_ID_LENGTH or len(h.instance_id) > MAX_ID_LENGTH:
            return f"{where}: module_id and instance_id are at most {MAX_ID_LENGTH} characters"
        if h.sequence < 1:
            return f"{where}: header.sequence must be 1 or more (rule E-2), got {h.sequence}"
        if report.WhichOneof("report") is None:
            return f"{where}: carries no event, status or metrics"
        if report.ByteSize() > MAX_REPORT_BYTES:
            return (f"{where}: {report.ByteSize()} bytes, over the {MAX_REPORT_BYTES} a report "
                    "may have (rule E-24): keep large data out of events and metrics")
        if (h.instance_id, h.module_id) != (first.instance_id, first.module_id):
            return (f"{where}: a batch holds the reports of one module instance (rule E-24), "
                    f"this one {first.instance_id!r} and {h.instance_id!r}: one batch each")
        if i and h.sequence != reports[i - 1].header.sequence + 1:
            return (f"{where}: sequence {h.sequence} follows {reports[i - 1].header.sequence};"
                    " a batch's sequences are ascending and contiguous (rules E-10, E-24)")
    return None


class EventIngest(event_pb2_grpc.EventServiceServicer):
    """The EventService the orchestrator's server registers for modules."""

    def __init__(self, append: Append) -> None:
        self._append = append

    async def _take(self, reports: list[event_pb2.ModuleReport],
                    context: grpc.aio.ServicerContext) -> AppendOutcome:
        problem = check_reports(reports)
        if problem is not None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        try:
            return await self._append(reports)
        except BusClosed:
            await context.abort(grpc.StatusCode.UNAVAILABLE,
                                "the orchestrator is shutting down; retry with the same sequence")
        except LogWriteError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE,
                                f"{exc}; not acknowledged: retry with the same sequence")
        raise AssertionError("unreachable")  # abort() raises

    async def ReportBatch(self, request: event_pb2.ReportBatchRequest,
                          context: grpc.aio.ServicerContext) -> event_pb2.ReportBatchResponse:
        outcome = await self._take(list(request.reports), context)
        return event_pb2.ReportBatchResponse(accepted=outcome.accepted,
                                             duplicates=outcome.duplicates)

    async def ReportEvent(self, request: event_pb2.ReportEventRequest,
                          context: grpc.aio.ServicerContext) -> event_pb2.ReportEventResponse:
        outcome = await self._take([_single(request, "event")], context)
        return event_pb2.ReportEventResponse(duplicate=outcome.duplicates > 0)

    async def ReportStatus(self, request: event_pb2.ReportStatusRequest,
                           context: grpc.aio.ServicerContext) -> event_pb2.ReportStatusResponse:
        outcome = await self._take([_single(request, "status")], context)
        return event_pb2.ReportStatusResponse(duplicate=outcome.duplicates > 0)

    async def ReportMetrics(self, request: event_pb2.ReportMetricsRequest,
                            context: grpc.aio.ServicerContext
                            ) -> event_pb2.ReportMetricsResponse:
        outcome = await self._take([_single(request, "metrics")], context)
        return event_pb2.ReportMetricsResponse(duplicate=outcome.duplicates > 0)


def _single(request: Any, kind: str) -> event_pb2.ModuleReport:
    """The ModuleReport of a ReportEvent/ReportStatus/ReportMetrics call."""
    report = event_pb2.ModuleReport(header=request.header)
    if request.HasField(kind):
        getattr(report, kind).CopyFrom(getattr(request, kind))
    return report
