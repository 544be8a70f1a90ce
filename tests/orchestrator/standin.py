"""A stand-in for the event log in tests that are about supervision, not events: it records
what the orchestrator publishes, and the events modules report, and acknowledges every
module report (not durably)."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from mediagrid.v1 import event_pb2, event_pb2_grpc


class Acknowledge(event_pb2_grpc.EventServiceServicer):
    def __init__(self, events: list[event_pb2.ModuleReport]) -> None:
        self.events = events  # the reports carrying an event, as they arrive

    async def ReportEvent(self, request: Any, context: Any) -> Any:
        self.events.append(event_pb2.ModuleReport(header=request.header, event=request.event))
        return event_pb2.ReportEventResponse()

    async def ReportStatus(self, request: Any, context: Any) -> Any:
        return event_pb2.ReportStatusResponse()

    async def ReportMetrics(self, request: Any, context: Any) -> Any:
        return event_pb2.ReportMetricsResponse()

    async def ReportBatch(self, request: Any, context: Any) -> Any:
        self.events.extend(r for r in request.reports if r.HasField("event"))
        return event_pb2.ReportBatchResponse(accepted=len(request.reports))


class StandInBus:
    def __init__(self) -> None:
        self.published: list[tuple[str, event_pb2.Event]] = []
        self.reported: list[event_pb2.ModuleReport] = []  # the modules' own events
        self.samples: list[tuple[str, event_pb2.Metrics]] = []
        self.changed = asyncio.Event()

    def servicer(self) -> event_pb2_grpc.EventServiceServicer:
        return Acknowledge(self.reported)

    async def publish(self, module_id: str, event: event_pb2.Event) -> None:
        self.published.append((module_id, event))

    async def publish_metrics(self, module_id: str, metrics: event_pb2.Metrics) -> None:
        self.samples.append((module_id, metrics))

    def subscribe(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        raise NotImplementedError("the stand-in bus has no subscriptions")

    async def close(self) -> None:
        pass

    def of(self, module_id: str, kind: int) -> list[event_pb2.Event]:
        return [e for m, e in self.published if m == module_id and e.type == kind]

    def reports_of(self, module_id: str, kind: int) -> list[event_pb2.Event]:
        """The events of this type a module reported itself, in arrival order."""
        return [r.event for r in self.reported
                if r.header.module_id == module_id and r.event.type == kind]
