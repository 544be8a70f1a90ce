"""Time for the subscriptions' idle bookmarks (rule E-14): the loop's clock, or a hand-moved one.

Bookmarks wait "until this deadline, unless woken first". `LoopTimer` does that with the event
loop's monotonic clock. `ManualTimer` only moves when a test calls `advance()`, so a test can
check the bookmark interval exactly (no bookmark at 4.999 s, one at 5 s) without sleeping.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Timer(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale."""

    async def wait(self, event: asyncio.Event, deadline: float) -> bool:
        """Waits until `event` is set (True) or `deadline` (on this timer's scale) passes."""


class LoopTimer:
    """The running event loop's monotonic clock."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def wait(self, event: asyncio.Event, deadline: float) -> bool:
        if event.is_set():
            return True
        try:
            async with asyncio.timeout_at(deadline):
                await event.wait()
        except TimeoutError:
            return event.is_set()
        return True


class ManualTimer:
    """A timer that moves only by `advance()`; `waiting` says how many waits are pending."""

    def __init__(self, now: float = 0.0) -> None:
        self._now = now
        self._deadlines: list[tuple[float, asyncio.Event]] = []

    def now(self) -> float:
        return self._now

    @property
    def waiting(self) -> int:
        return len(self._deadlines)

    def advance(self, seconds: float) -> None:
        self._now += seconds
        for deadline, reached in self._deadlines:
            if deadline <= self._now:
                reached.set()

    async def wait(self, event: asyncio.Event, deadline: float) -> bool:
        if event.is_set():
            return True
        if deadline <= self._now:
            return False
        reached = asyncio.Event()
        entry = (deadline, reached)
        self._deadlines.append(entry)
        woken = asyncio.ensure_future(event.wait())
        timed_out = asyncio.ensure_future(reached.wait())
        try:
            await asyncio.wait((woken, timed_out), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._deadlines.remove(entry)
            for task in (woken, timed_out):
                task.cancel()
        return event.is_set()
