"""The log's one writer: a dedicated thread, and group commit of concurrent calls.

Every write to the event log runs in one thread of its own, so SQLite's blocking work never
stalls the event loop that serves the other streams. Calls that arrive while a transaction
is being written wait together and are written by the next transaction (up to
`max_commit_reports` reports), so ten modules reporting at once cost one commit, not ten.

A call's future resolves only after its transaction committed and its envelopes were handed
to the live subscribers: an acknowledgement always means "in the file", and a subscriber
never sees an envelope that a crash could take back.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mediagrid.reference.orchestrator.events.log import (
    AppendOutcome,
    EventLog,
    LogEntry,
    LogState,
    LogWriteError,
)
from mediagrid.reference.orchestrator.events.settings import EventSettings
from mediagrid.v1 import event_pb2

log = logging.getLogger("mediagrid.orchestrator.events")

Reports = list[event_pb2.ModuleReport]


class BusClosed(Exception):
    """The bus is closing: the call is not acknowledged (the module retries later)."""


class LogWriter:
    def __init__(self, settings: EventSettings, clock: Callable[[], float],
                 on_commit: Callable[[list[LogEntry]], None]) -> None:
        self._settings, self._clock, self._on_commit = settings, clock, on_commit
        self._executor = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="event-log-writer")
        self._pending: collections.deque[tuple[Reports, asyncio.Future[AppendOutcome]]] = (
            collections.deque())
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._closed = False
        self._log: EventLog | None = None
        self._task: asyncio.Task[None] | None = None
        self.state = LogState(0, 0)
        self.tag = ""
        self.accepted = 0
        self.duplicates = 0

    async def open(self, path: Path) -> None:
        self._log = await self._in_thread(EventLog.open, path, self._settings)
        self.tag, self.state = self._log.tag, self._log.state
        self._task = asyncio.create_task(self._run(), name="event-log-writer")

    @property
    def log(self) -> EventLog:
        assert self._log is not None, "open() first"
        return self._log

    async def _in_thread(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def _now_ns(self) -> int:
        return int(self._clock() * 1e9)

    async def append(self, reports: Reports) -> AppendOutcome:
        """Writes one call's reports; returns once they are committed (or raises)."""
        if self._closed:
            raise BusClosed
        future: asyncio.Future[AppendOutcome] = asyncio.get_running_loop().create_future()
        self._pending.append((reports, future))
        self._idle.clear()
        self._wakeup.set()
        return await asyncio.shield(future)

    async def prune(self) -> None:
        """Applies the retained window now (also done on writes and every prune_interval)."""
        await self._in_thread(self.log.prune, self._now_ns())
        self.state = self.log.state

    async def _run(self) -> None:
        while True:
            if not self._pending:
                self._idle.set()
                self._wakeup.clear()
                try:
                    async with asyncio.timeout(self._settings.prune_interval):
                        await self._wakeup.wait()
                except TimeoutError:
                    await self._prune_quietly()
                continue
            await self._write(self._take())

    async def _write(self, calls: list[tuple[Reports, asyncio.Future[AppendOutcome]]]) -> None:
        """One transaction for these calls; then the fan-out; then their answers."""
        try:
            outcomes = await self._in_thread(
                self.log.append, [reports for reports, _ in calls], self._now_ns())
        except Exception as exc:  # the transaction was rolled back: acknowledge nothing
            error = exc if isinstance(exc, LogWriteError) else LogWriteError(str(exc))
            log.error("%s; %d call(s) not acknowledged", error, len(calls))
            for _, future in calls:
                if not future.done():
                    future.set_exception(error)
            return
        self.state = self.log.state
        self.accepted += sum(outcome.accepted for outcome in outcomes)
        self.duplicates += sum(outcome.duplicates for outcome in outcomes)
        entries = [e for outcome in outcomes for e in outcome.entries]
        if entries:
            try:
                self._on_commit(entries)
            except Exception:  # a fan-out fault must never stop the modules' reports
                log.exception("handing %d envelopes to the subscribers failed", len(entries))
        for (_, future), outcome in zip(calls, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)

    def _take(self) -> list[tuple[Reports, asyncio.Future[AppendOutcome]]]:
        calls = [self._pending.popleft()]
        count = len(calls[0][0])
        while self._pending and count + len(self._pending[0][0]) <= (
                self._settings.max_commit_reports):
            count += len(self._pending[0][0])
            calls.append(self._pending.popleft())
        return calls

    async def _prune_quietly(self) -> None:
        try:
            await self.prune()
        except LogWriteError as exc:  # e.g. another connection held the file: next time
            log.warning("%s", exc)

    async def close(self) -> None:
        """Refuses new calls, writes the pending ones, then closes the log."""
        self._closed = True
        if self._task is None:
            return
        await self._idle.wait()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        await self._in_thread(self.log.close)
        self._executor.shutdown(wait=True)
        self._task = None
