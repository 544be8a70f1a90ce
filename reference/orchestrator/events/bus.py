"""The event bus: EventService in, the durable log, SubscribeToEvents out (docs/events.md).

    bus = await EventBus.open(Path("mediagrid-state.sqlite"))
    event_pb2_grpc.add_EventServiceServicer_to_server(bus.servicer(), server)
    ...  # OrchestratorService.SubscribeToEvents: async for m in bus.subscribe(req, ctx): yield m
    await bus.publish("camera-1", event)   # the orchestrator's own MODULE_* envelopes (E-17)
    await bus.close()                      # SHUTTING_DOWN to every subscriber, then closes
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc

from mediagrid.reference.orchestrator.events import cursors, wire
from mediagrid.reference.orchestrator.events.fanout import Fanout
from mediagrid.reference.orchestrator.events.filters import Filter, FilterError
from mediagrid.reference.orchestrator.events.ingest import MAX_BATCH, EventIngest
from mediagrid.reference.orchestrator.events.reader import LogReader, Pruned
from mediagrid.reference.orchestrator.events.settings import EventSettings
from mediagrid.reference.orchestrator.events.subscription import Lagged, Subscription, Terms
from mediagrid.reference.orchestrator.events.timing import LoopTimer, Timer
from mediagrid.reference.orchestrator.events.writer import LogWriter
from mediagrid.v1 import event_pb2, event_pb2_grpc, orchestrator_pb2

log = logging.getLogger("mediagrid.orchestrator.events")

DEFAULT_SETTINGS = EventSettings()
DEFAULT_MAX_BATCH = 100  # rule E-16
MAX_SUBSCRIBER_NAME = 128
RESYNC = ("resync: re-read state with the List calls, then subscribe from the live end "
          "(since_cursor empty)")


@dataclass(frozen=True)
class EventStats:
    """The log and its subscribers, as of now. Counts are since the bus was opened, except
    `gaps`, which is kept in the state file per module instance."""

    head_cursor: str
    """Cursor of the newest envelope (resume here to get only what comes next)."""
    retained: int
    """Envelopes in the retained window."""
    accepted: int
    duplicates: int
    gaps: int
    """Sequence numbers never received, over the module instances remembered."""
    undeclared_gaps: int
    """Those of them no WARNING of rule E-22 declared: loss the module did not own up to."""
    subscribers: int
    lagged: int
    """Subscribers cut off with LAGGED (rule E-15)."""
    published: int = 0
    """Reports the orchestrator made itself (E-17, E-25) since the bus was opened."""


class EventBus:
    def __init__(self, path: Path, settings: EventSettings, clock: Callable[[], float],
                 timer: Timer) -> None:
        self.path, self.settings = path, settings
        self.orchestrator_instance_id = uuid.uuid4().hex
        self._clock, self._timer = clock, timer
        self._fanout = Fanout()
        self._writer = LogWriter(settings, clock, self._fanout.publish)
        self._ingest = EventIngest(self._writer.append)
        self._reader: LogReader | None = None
        self._subscriptions: set[Subscription] = set()
        self._no_subscribers = asyncio.Event()
        self._no_subscribers.set()
        self._closing = False
        self._sequence = 0
        self._last_event_ns = 0

    @classmethod
    async def open(cls, path: Path, settings: EventSettings = DEFAULT_SETTINGS, *,
                   clock: Callable[[], float] = time.time, timer: Timer | None = None
                   ) -> EventBus:
        """Opens (or creates) the log in the state file at `path`. `clock` stamps envelopes
        and ages the retained window; `timer` paces idle bookmarks (tests pass a ManualTimer)."""
        bus = cls(Path(path), settings, clock, timer or LoopTimer())
        await bus._writer.open(bus.path)
        bus._reader = LogReader(bus.path, settings, bus._writer.tag)
        return bus

    # -- reports in --------------------------------------------------------------------------
    def servicer(self) -> event_pb2_grpc.EventServiceServicer:
        """The EventService to register on the orchestrator's server."""
        return self._ingest

    async def publish(self, module_id: str, event: event_pb2.Event
                      ) -> orchestrator_pb2.EventEnvelope:
        """Writes an orchestrator-made event about `module_id` (rule E-17); returns its
        envelope once it is in the log. Raises writer.BusClosed or log.LogWriteError."""
        report = self._own_report(module_id, "publish()")
        e = report.event
        e.CopyFrom(event)
        e.id = e.id or f"{self.orchestrator_instance_id}-{self._sequence}"
        e.source_module_id = e.source_module_id or module_id
        e.severity = e.severity or event_pb2.EVENT_SEVERITY_INFO
        if not e.HasField("timestamp"):
            e.timestamp.FromNanoseconds(self._stamp())
        outcome = await self._writer.append([report])
        return wire.envelope(outcome.entries[0].frame)

    async def publish_metrics(self, module_id: str, metrics: event_pb2.Metrics
                              ) -> orchestrator_pb2.EventEnvelope:
        """Writes an orchestrator-made metrics sample about `module_id` (the flow monitor's,
        rule E-25), as publish() writes an event."""
        report = self._own_report(module_id, "publish_metrics()")
        report.metrics.CopyFrom(metrics)
        report.metrics.module_id = report.metrics.module_id or module_id
        if not report.metrics.HasField("timestamp"):
            report.metrics.timestamp.FromNanoseconds(self._stamp())
        outcome = await self._writer.append([report])
        return wire.envelope(outcome.entries[0].frame)

    def _own_report(self, module_id: str, caller: str) -> event_pb2.ModuleReport:
        """A report with the orchestrator's own header: the subject module, this bus's
        instance and its next sequence."""
        if not module_id:
            raise ValueError(f"{caller} needs the id of the module the report is about")
        self._sequence += 1
        report = event_pb2.ModuleReport()
        h = report.header
        h.module_id, h.instance_id, h.sequence = (
            module_id, self.orchestrator_instance_id, self._sequence)
        return report

    def _stamp(self) -> int:
        """Now in ns, never before the previous own report's time (rule E-9)."""
        self._last_event_ns = max(int(self._clock() * 1e9), self._last_event_ns)
        return self._last_event_ns

    # -- envelopes out -----------------------------------------------------------------------
    async def subscribe(self, request: orchestrator_pb2.SubscribeToEventsRequest,
                        context: grpc.aio.ServicerContext
                        ) -> AsyncIterator[orchestrator_pb2.SubscribeToEventsResponse]:
        """The body of OrchestratorService.SubscribeToEvents (rules E-11 to E-18, S-7)."""
        terms = await self._terms(request, context)
        if self._closing:
            await context.abort(grpc.StatusCode.UNAVAILABLE,
                                "the orchestrator is shutting down; subscribe again later")
        if len(self._subscriptions) >= self.settings.max_subscribers:
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"too many event subscribers ({self.settings.max_subscribers}, rule S-7): "
                "close one, or raise the orchestrator's max_subscribers")
        try:
            position = self._start(request.since_cursor)
        except cursors.CursorError as exc:
            await context.abort(grpc.StatusCode.OUT_OF_RANGE, f"{exc}; {RESYNC}")
        assert self._reader is not None
        sub = Subscription(terms, position, self._writer.tag, reader=self._reader,
                           timer=self._timer, head=lambda: self._writer.state.head,
                           go_live=self._fanout.add)
        self._subscriptions.add(sub)
        self._no_subscribers.clear()
        try:
            async for message in sub.messages():
                yield message
        except Lagged:
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"subscriber fell more than {terms.capacity} envelopes behind (rule E-15); "
                f"resume with since_cursor={sub.cursor(sub.sent_position)}")
        except Pruned as exc:
            await context.abort(
                grpc.StatusCode.OUT_OF_RANGE,
                f"the retained window moved past this subscriber while it caught up (position "
                f"{exc.position}, oldest retained {exc.pruned_through + 1}); {RESYNC}")
        except sqlite3.Error as exc:
            log.error("reading the event log for subscriber %r failed: %s", terms.name, exc)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                f"the event log could not be read ({exc}); subscribe again with since_cursor="
                f"{sub.cursor(sub.sent_position)}")
        finally:
            self._fanout.remove(sub)
            self._subscriptions.discard(sub)
            if not self._subscriptions:
                self._no_subscribers.set()

    async def _terms(self, request: orchestrator_pb2.SubscribeToEventsRequest,
                     context: grpc.aio.ServicerContext) -> Terms:
        problem = ""
        try:
            flt = Filter.from_proto(request.filter)
        except FilterError as exc:
            problem = str(exc)
        if not 0 <= request.max_batch <= MAX_BATCH:
            problem = f"max_batch must be 1 to {MAX_BATCH} (0 means {DEFAULT_MAX_BATCH}), " \
                      f"got {request.max_batch}"
        if len(request.subscriber) > MAX_SUBSCRIBER_NAME:
            problem = f"subscriber name is longer than {MAX_SUBSCRIBER_NAME} characters"
        if problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        s = self.settings
        return Terms(request.subscriber or "(unnamed)", context.peer(), flt,
                     request.max_batch or DEFAULT_MAX_BATCH, s.subscriber_buffer,
                     s.bookmark_interval, s.catchup_page)

    def _start(self, since: str) -> int:
        """The log position a subscription starts after; CursorError when out of range."""
        state = self._writer.state
        if since == cursors.LIVE_END:
            return state.head
        if since == cursors.OLDEST:
            return state.pruned_through
        position = cursors.decode(since, self._writer.tag)
        if position < state.pruned_through:
            raise cursors.CursorError(
                f"cursor {since!r} is older than the retained window: the envelopes after it "
                "were dropped (rule E-13; since_cursor \"0\" starts at the oldest retained)")
        if position > state.head:
            raise cursors.CursorError(
                f"cursor {since!r} is beyond the end of this event log: it was not issued by "
                "this orchestrator's state file")
        return position

    # -- upkeep ------------------------------------------------------------------------------
    async def prune(self) -> None:
        """Applies the retained window now (it is also applied on writes and every second)."""
        await self._writer.prune()

    def stats(self) -> EventStats:
        state = self._writer.state
        return EventStats(
            head_cursor=cursors.encode(state.head, self._writer.tag),
            retained=state.head - state.pruned_through,
            accepted=self._writer.accepted,
            duplicates=self._writer.duplicates,
            gaps=sum(i.gaps for i in self._writer.log.instances.values()),
            undeclared_gaps=sum(i.undeclared for i in self._writer.log.instances.values()),
            subscribers=len(self._subscriptions),
            lagged=self._fanout.lagged,
            published=self._sequence,
        )

    async def close(self) -> None:
        """Writes what is pending, sends SHUTTING_DOWN to every subscriber, closes the log."""
        if self._closing:
            return
        self._closing = True
        await self._writer.close()
        for sub in list(self._subscriptions):
            sub.shut_down()
        try:
            async with asyncio.timeout(self.settings.close_grace):
                await self._no_subscribers.wait()
        except TimeoutError:
            log.warning("%d subscriber(s) did not take SHUTTING_DOWN within %.1f s",
                        len(self._subscriptions), self.settings.close_grace)
        if self._reader is not None:
            await self._reader.close()
