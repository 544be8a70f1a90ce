"""The event reporter: numbers reports, sends them in order, retries, buffers (rules E-1..E-10,
E-22, E-23).

Every report (Event, StatusUpdate, Metrics) gets the next sequence number the moment it is
made (1, 2, 3... per instance) and joins a bounded queue. One sender task delivers the queue
in order: a single report with its own RPC, several queued ones with ReportBatch (at most 500
per call, under 4 MiB - 64 KiB together; a larger single report is dropped when made and
declared). A failed call is retried with the same sequence numbers after a backoff (50 ms x2,
capped at 2 s, ±20 % jitter), except an INVALID_ARGUMENT or FAILED_PRECONDITION answer: those
reports can never be accepted, so they are dropped. When the queue is full the OLDEST report
is dropped. Drops are counted, and when a send succeeds again a WARNING event declares them:
how many, and the first and last dropped sequence numbers (the only gaps in the sequence).

The ordering rules hold by construction: a report about an entity before its ENTITY_CREATED or
after its ENTITY_DESTROYED raises ReportOrderError, and so does a FLOW_STARTED whose
connections have no CONNECTION_CREATED. Timestamps are clamped so they never go backwards.
Making a report never awaits, so the order reports are made in is the order they are sent.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
from google.protobuf import timestamp_pb2

from mediagrid.backoff import REPORT_RETRY, Backoff
from mediagrid.sdk.errors import ReportOrderError
from mediagrid.v1 import common_pb2, event_pb2

log = logging.getLogger("mediagrid.sdk.reporter")

EventType = int  # an event_pb2.EVENT_TYPE_* value
MAX_BATCH = 500
DEFAULT_CAPACITY = 10_000
# gRPC's 4 MiB per message (rule S-5) less room for a call's own fields: a batch stays under
# it, and a single report over it is never accepted (rule E-24), so it is dropped when made
# and declared like any drop (E-22) instead of being sent for ever.
MAX_REPORT_BYTES = 4 * 1024 * 1024 - 64 * 1024

# Answers that mean "never": retrying cannot help, so the reports are dropped (rule E-23).
NOT_RETRIED = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION})

SEVERITY_OF = {
    event_pb2.EVENT_TYPE_ERROR: event_pb2.EVENT_SEVERITY_ERROR,
    event_pb2.EVENT_TYPE_WARNING: event_pb2.EVENT_SEVERITY_WARNING,
}


class ReportSender(Protocol):
    """Where reports go. `GrpcReportSender` sends them to the orchestrator's EventService."""

    async def send(self, reports: list[event_pb2.ModuleReport]) -> None:
        """Delivers the reports (in order) or raises."""


@dataclass
class ReporterStats:
    made: int = 0
    sent: int = 0
    dropped: int = 0
    failures: int = 0


@dataclass
class EventReporter:
    module_id: str
    instance_id: str
    sender: ReportSender | None = None
    """None: standalone. Reports stay queued (oldest dropped beyond capacity)."""
    capacity: int = DEFAULT_CAPACITY
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    backoff: Backoff = field(default_factory=lambda: Backoff(REPORT_RETRY))
    max_batch: int = MAX_BATCH
    stats: ReporterStats = field(default_factory=ReporterStats)

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._queue: collections.deque[event_pb2.ModuleReport] = collections.deque()
        self._sequence = 0
        self._last_ns = 0
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._entities: set[str] = set()
        self._connections: set[str] = set()
        self._unwarned_drops = 0
        self._drop_ranges: list[list[int]] = []  # [first, last] of drops not yet declared
        self._inflight_dropped = 0
        self._inflight_last = 0

    # -- making reports (never awaits) ------------------------------------------------------
    @property
    def sequence(self) -> int:
        """The sequence number of the last report made (0 before the first)."""
        return self._sequence

    @property
    def queued(self) -> int:
        return len(self._queue)

    def known_entity(self, entity_id: str) -> bool:
        return entity_id in self._entities

    def event(
        self,
        type: EventType,
        message: str = "",
        *,
        entity_id: str = "",
        connection_id: str = "",
        flow_id: str = "",
        severity: int = 0,
        details: Mapping[str, str] | None = None,
    ) -> int:
        """Queues an event; returns its sequence number."""
        if type == event_pb2.EVENT_TYPE_ENTITY_CREATED:
            if entity_id in self._entities:
                raise ReportOrderError(f"ENTITY_CREATED for {entity_id!r}, which already exists")
            if not entity_id:
                raise ReportOrderError("ENTITY_CREATED needs an entity_id")
        else:
            self._check_entity(entity_id)
        if type == event_pb2.EVENT_TYPE_FLOW_STARTED:
            raise ReportOrderError("report FLOW_STARTED with flow_started(), naming its links")
        if type == event_pb2.EVENT_TYPE_CONNECTION_CREATED:
            self._connections.add(connection_id)
        elif type == event_pb2.EVENT_TYPE_CONNECTION_REMOVED:
            self._connections.discard(connection_id)
        elif type == event_pb2.EVENT_TYPE_ENTITY_CREATED:
            self._entities.add(entity_id)
        elif type == event_pb2.EVENT_TYPE_ENTITY_DESTROYED:
            self._entities.discard(entity_id)
        return self._make_event(type, message, entity_id, connection_id, flow_id, severity, details)

    def flow_started(
        self, flow_id: str, connection_ids: Iterable[str], message: str = "", *, entity_id: str = ""
    ) -> int:
        """Queues FLOW_STARTED; every connection must have had its CONNECTION_CREATED."""
        missing = [c for c in connection_ids if c not in self._connections]
        if missing:
            raise ReportOrderError(
                f"FLOW_STARTED for {flow_id!r} before CONNECTION_CREATED of {', '.join(missing)}"
            )
        self._check_entity(entity_id)
        return self._make_event(
            event_pb2.EVENT_TYPE_FLOW_STARTED, message, entity_id, "", flow_id, 0, None
        )

    def status(self, entity_id: str, status: common_pb2.EntityStatus) -> int:
        self._check_entity(entity_id, required=True)
        report = event_pb2.ModuleReport()
        report.status.module_id = self.module_id
        report.status.entity_id = entity_id
        report.status.entity_status.CopyFrom(status)
        self._stamp(report.status.timestamp)
        return self._enqueue(report)

    def metrics(
        self,
        values: Mapping[str, common_pb2.MetricValue],
        *,
        entity_id: str = "",
        flow_id: str = "",
        connection_id: str = "",
    ) -> int:
        self._check_entity(entity_id)
        report = event_pb2.ModuleReport()
        m = report.metrics
        m.module_id, m.entity_id, m.flow_id, m.connection_id = (
            self.module_id, entity_id, flow_id, connection_id,
        )
        for key, value in values.items():
            m.metrics[key].CopyFrom(value)
        self._stamp(m.timestamp)
        return self._enqueue(report)

    def _check_entity(self, entity_id: str, *, required: bool = False) -> None:
        if required and not entity_id:
            raise ReportOrderError("a status update needs an entity_id")
        if entity_id and entity_id not in self._entities:
            raise ReportOrderError(
                f"report about entity {entity_id!r} outside its life: before ENTITY_CREATED or"
                " after ENTITY_DESTROYED (rules E-6, E-7)"
            )

    def _make_event(
        self, type: EventType, message: str, entity_id: str, connection_id: str, flow_id: str,
        severity: int, details: Mapping[str, str] | None,
    ) -> int:
        report = event_pb2.ModuleReport()
        e = report.event
        e.type = type
        e.severity = severity or SEVERITY_OF.get(type, event_pb2.EVENT_SEVERITY_INFO)
        e.source_module_id = self.module_id
        e.source_entity_id = entity_id
        e.connection_id = connection_id
        e.flow_id = flow_id
        e.message = message
        e.details.update(details or {})
        self._stamp(e.timestamp)
        seq = self._enqueue(report)
        e.id = f"{self.instance_id}-{seq}"
        return seq

    def _stamp(self, ts: timestamp_pb2.Timestamp) -> None:
        ns = max(int(self.clock() * 1e9), self._last_ns)  # never backwards (rule E-9)
        self._last_ns = ns
        ts.FromNanoseconds(ns)

    def _enqueue(self, report: event_pb2.ModuleReport) -> int:
        self._sequence += 1
        h = report.header
        h.module_id, h.instance_id, h.sequence = self.module_id, self.instance_id, self._sequence
        self.stats.made += 1
        if report.ByteSize() > MAX_REPORT_BYTES:
            log.error("report %d is %d bytes, over the %d a report may have (rule E-24): "
                      "dropped", self._sequence, report.ByteSize(), MAX_REPORT_BYTES)
            self._count_drop(self._sequence)
            if self._inflight_last == 0:  # nothing in flight that could still arrive
                self._declare_drops()
            return self._sequence
        self._queue.append(report)
        while len(self._queue) > self.capacity:
            oldest = self._queue.popleft()
            self._count_drop(oldest.header.sequence)
            if oldest.header.sequence <= self._inflight_last:
                self._inflight_dropped += 1
        self._idle.clear()
        self._wakeup.set()
        return self._sequence

    def _count_drop(self, sequence: int) -> None:
        """Drops only ever leave the head of the queue, so they come in ascending order."""
        self.stats.dropped += 1
        self._unwarned_drops += 1
        if self._drop_ranges and self._drop_ranges[-1][1] == sequence - 1:
            self._drop_ranges[-1][1] = sequence
        else:
            self._drop_ranges.append([sequence, sequence])

    def _delivered(self, first: int, last: int) -> None:
        """Reports first..last, dropped from the queue while in flight, arrived after all."""
        kept: list[list[int]] = []
        for a, b in self._drop_ranges:
            kept += [r for r in ([a, min(b, first - 1)], [max(a, last + 1), b]) if r[0] <= r[1]]
        self._drop_ranges = kept

    # -- sending ----------------------------------------------------------------------------
    async def run(self) -> None:
        """The sender loop; run it as a task for the life of the module."""
        if self.sender is None:
            await asyncio.Event().wait()  # standalone: keep everything queued
        while True:
            if not self._queue:
                self._idle.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = self._next_batch()
            self._inflight_last = batch[-1].header.sequence
            self._inflight_dropped = 0
            try:
                await self.sender.send(batch)
            except Exception as exc:  # retried with the same sequences, unless it never can be
                self.stats.failures += 1
                if _code(exc) in NOT_RETRIED:
                    self._drop_refused(batch[-1].header.sequence, exc)
                    continue
                delay = self.backoff.next_delay()
                log.warning(
                    "sending reports %d..%d failed (%s); retrying in %.3f s",
                    batch[0].header.sequence, batch[-1].header.sequence, _short(exc), delay,
                )
                self._inflight_last = 0
                await self.sleep(delay)
                continue
            self.backoff.reset()
            last = self._inflight_last
            self._inflight_last = 0
            while self._queue and self._queue[0].header.sequence <= last:
                self._queue.popleft()
            # Reports dropped from the queue while in flight were delivered after all.
            self.stats.dropped -= self._inflight_dropped
            self._unwarned_drops -= self._inflight_dropped
            if self._inflight_dropped:
                self._delivered(batch[0].header.sequence, last)
            self.stats.sent += len(batch) - self._inflight_dropped
            self._inflight_dropped = 0
            if self._unwarned_drops > 0:
                self._declare_drops()

    def _next_batch(self) -> list[event_pb2.ModuleReport]:
        """The head of the queue: up to max_batch reports under MAX_REPORT_BYTES together
        (at least one)."""
        batch, size = [], 0
        for report in itertools.islice(self._queue, self.max_batch):
            size += report.ByteSize()
            if batch and size > MAX_REPORT_BYTES:
                break
            batch.append(report)
        return batch

    def _drop_refused(self, last: int, exc: BaseException) -> None:
        """The orchestrator refused reports up to `last` for good (rule E-23): drop them."""
        log.error("the orchestrator refused reports up to %d (%s); dropping them", last,
                  _short(exc))
        self._inflight_last = self._inflight_dropped = 0
        while self._queue and self._queue[0].header.sequence <= last:
            self._count_drop(self._queue.popleft().header.sequence)

    def _declare_drops(self) -> None:
        """The WARNING of rules E-5 and E-22, made once a send succeeded again: one per
        contiguous range of dropped sequence numbers."""
        ranges, self._drop_ranges, self._unwarned_drops = self._drop_ranges, [], 0
        for first, last in ranges:
            count = last - first + 1
            self._make_event(
                event_pb2.EVENT_TYPE_WARNING,
                f"dropped {count} reports ({first}..{last}): the orchestrator was unreachable"
                f" (the buffer holds {self.capacity}) or refused them",
                "", "", "", 0,
                {"dropped_reports": str(count), "first_dropped": str(first),
                 "last_dropped": str(last)},
            )

    async def flush(self, within: float) -> bool:
        """Waits until everything queued is sent; False when `within` seconds passed first."""
        if self.sender is None:
            return not self._queue
        try:
            async with asyncio.timeout(within):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


def _code(exc: BaseException) -> grpc.StatusCode | None:
    code = getattr(exc, "code", None)
    try:
        return code() if callable(code) else None
    except Exception:  # pragma: no cover - not an RpcError after all
        return None


def _short(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    if callable(code):
        try:
            return f"{code().name}: {exc.details()}"  # type: ignore[attr-defined]
        except Exception:  # pragma: no cover - not an RpcError after all
            pass
    return f"{type(exc).__name__}: {exc}"


def metric_value(value: Any) -> common_pb2.MetricValue:
    """A Python value as a MetricValue (bool, int, float or str)."""
    if isinstance(value, common_pb2.MetricValue):
        return value
    if isinstance(value, bool):
        return common_pb2.MetricValue(bool_value=value)
    if isinstance(value, int):
        return common_pb2.MetricValue(int_value=value)
    if isinstance(value, float):
        return common_pb2.MetricValue(double_value=value)
    return common_pb2.MetricValue(string_value=str(value))
