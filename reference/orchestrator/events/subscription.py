"""One subscriber's stream: catch-up from the log, then live, through a bounded buffer.

A subscription starts at a log position (its cursor). While behind the log's head it reads
pages from the log itself (`LogReader`), at its own pace: a slow reader there costs nothing.
When a page ends at the head it joins the live fan-out, with no await between the check and
the join, so no envelope is missed or repeated at the switch (rule E-12). It then gets one
bookmark at once: the cursor of the live end, so even a subscriber that has received nothing
can resume without a gap.

Live envelopes that match its filter (rule E-18) are queued in its buffer; each stream message
takes what is queued, up to `max_batch` (rule E-16). A buffer that would overflow ends the
subscription: LAGGED with the cursor of the last envelope handed to gRPC, then
RESOURCE_EXHAUSTED (rule E-15); the fan-out never waits for a subscriber. A stream with
nothing to send for the bookmark interval gets a bookmark (rule E-14).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from mediagrid.reference.orchestrator.events import cursors, wire
from mediagrid.reference.orchestrator.events.filters import Filter
from mediagrid.reference.orchestrator.events.log import LogEntry
from mediagrid.reference.orchestrator.events.reader import LogReader
from mediagrid.reference.orchestrator.events.timing import Timer
from mediagrid.v1 import orchestrator_pb2

Response = orchestrator_pb2.SubscribeToEventsResponse


class Lagged(Exception):
    """The subscriber fell more than its buffer behind; it was sent LAGGED."""


@dataclass(frozen=True)
class Terms:
    """What a subscriber asked for and what it is allowed."""

    name: str
    peer: str
    filter: Filter
    max_batch: int
    capacity: int
    bookmark_interval: float
    page: int


class Subscription:
    def __init__(self, terms: Terms, position: int, tag: str, *, reader: LogReader,
                 timer: Timer, head: Callable[[], int],
                 go_live: Callable[[Subscription], None]) -> None:
        self.terms = terms
        self.filter = terms.filter
        self.position = position
        """Every matching envelope up to here is in the buffer or was sent."""
        self.sent_position = position
        """Every matching envelope up to here was handed to gRPC."""
        self.buffer: collections.deque[LogEntry] = collections.deque()
        self.live = False
        self.lagged = False
        self.closing = False
        self.wake = asyncio.Event()
        self._tag, self._reader, self._timer = tag, reader, timer
        self._head, self._go_live = head, go_live

    def cursor(self, position: int) -> str:
        return cursors.encode(position, self._tag)

    # -- called by the fan-out (synchronously, in the event loop) ----------------------------
    def offer(self, matched: list[LogEntry], last_position: int) -> bool:
        """Queues a commit's matching entries; False when the subscriber lagged (drop it)."""
        if self.lagged or self.closing:
            return False
        if last_position <= self.position:
            return True
        if matched and matched[0].position <= self.position:
            matched = [e for e in matched if e.position > self.position]
        if len(self.buffer) + len(matched) > self.terms.capacity:
            self.lagged = True
            self.buffer.clear()
            self.wake.set()
            return False
        self.buffer.extend(matched)
        self.position = last_position
        if matched:
            self.wake.set()
        return True

    def shut_down(self) -> None:
        self.closing = True
        self.buffer.clear()
        self.wake.set()

    # -- the stream --------------------------------------------------------------------------
    async def messages(self) -> AsyncIterator[Response]:
        """The stream's messages; raises Lagged (after the signal) or reader.Pruned."""
        timer, interval = self._timer, self.terms.bookmark_interval
        idle_since = timer.now()
        announced = False
        while True:
            if self.lagged:
                yield self._signal(orchestrator_pb2.STREAM_SIGNAL_LAGGED)
                raise Lagged
            if self.closing:
                yield self._signal(orchestrator_pb2.STREAM_SIGNAL_SHUTTING_DOWN)
                return
            if self.buffer:
                yield self._next_batch()
                idle_since = timer.now()
                continue
            if not self.live:
                # No bookmark while catching up (a page takes milliseconds): the first one
                # marks the live end, which clients such as `mediagrid events` rely on.
                await self._catch_up()
                continue
            if announced:
                self.wake.clear()
                if await timer.wait(self.wake, idle_since + interval):
                    continue
            announced = True
            self.sent_position = self.position
            yield Response(bookmark=True, resume_cursor=self.cursor(self.position))
            idle_since = timer.now()

    def _next_batch(self) -> Response:
        n = min(self.terms.max_batch, len(self.buffer))
        batch = [self.buffer.popleft() for _ in range(n)]
        self.sent_position = batch[-1].position if self.buffer else self.position
        return wire.batch_message([e.frame for e in batch], batch[-1].cursor)

    def _signal(self, signal: int) -> Response:
        return Response(signal=signal, resume_cursor=self.cursor(self.sent_position))

    async def _catch_up(self) -> None:
        head = self._head()
        if self.position < head:
            limit = min(self.terms.page, self.terms.capacity)
            entries, through = await self._reader.read_after(
                self.position, head, limit, self.filter)
            if self.closing:
                return
            self.buffer.extend(entries)
            self.position = through
        if self.position >= self._head():  # no await since: nothing committed in between
            self.live = True
            self._go_live(self)
