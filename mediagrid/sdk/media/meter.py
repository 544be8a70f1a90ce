"""Windowed measurements: rates over the last few seconds, not averages since the start.

    frames = Meter(window=3.0)
    frames.add(1)                  # or frames.set_total(n) from a cumulative counter
    frames.rate()                  # per second over the last 3 s; falls to 0 when nothing moves
    frames.total, frames.idle_for()

The clock is injectable (`clock=`), so tests check every figure exactly.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]
DEFAULT_WINDOW = 3.0
RESOLUTION = 0.1
"""Samples closer than this are merged (a packet rate of thousands stays cheap)."""
MIN_SPAN = 0.5
"""The shortest time a rate is taken over."""
STALE_AFTER = 1.0
"""A counter not updated for this long is taken as not moving."""


class Meter:
    """A cumulative count with its rate over the last `window` seconds."""

    def __init__(self, window: float = DEFAULT_WINDOW, *, clock: Clock = time.monotonic) -> None:
        if window <= 0:
            raise ValueError(f"window must be > 0 s, got {window}")
        self.window = window
        self._clock = clock
        self.total = 0
        self._samples: deque[tuple[float, int]] = deque()
        self._moved_at: float | None = None

    def add(self, amount: int = 1) -> None:
        self.set_total(self.total + amount)

    def set_total(self, total: int) -> None:
        """Records a new cumulative total (from a counter that only rises)."""
        now = self._clock()
        if total > self.total:
            self._moved_at = now
        self.total = max(self.total, total)
        if self._samples and now - self._samples[-1][0] < RESOLUTION and len(self._samples) > 1:
            self._samples[-1] = (self._samples[-1][0], self.total)
        else:
            self._samples.append((now, self.total))
        self._trim(now)

    def rate(self) -> float:
        """Units per second over the last `window` seconds (0 when nothing moved in it)."""
        now = self._clock()
        self._trim(now)
        if not self._samples:
            return 0.0
        start, first = self._samples[0]
        last_at, last = self._samples[-1]
        # While samples keep coming, measure up to the last one (a counter read every 0.5 s
        # is not 0.5 s behind); once they stop, up to now, so the rate falls to 0.
        end = last_at if now - last_at <= STALE_AFTER else now
        span = max(end - start, MIN_SPAN)  # no spike from two samples a moment apart
        return (last - first) / span

    def idle_for(self) -> float | None:
        """Seconds since the count last rose (None: it never has)."""
        return None if self._moved_at is None else self._clock() - self._moved_at

    def _trim(self, now: float) -> None:
        # Keep one sample at or before the window's start as the baseline.
        while len(self._samples) >= 2 and self._samples[1][0] <= now - self.window:
            self._samples.popleft()


class LatencyWindow:
    """Latency samples (ms) of the last `window` seconds; `median()` is -1 when there are none
    (the contract's "not measured")."""

    def __init__(self, window: float = DEFAULT_WINDOW, *, clock: Clock = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._samples: deque[tuple[float, float]] = deque()

    def add(self, latency_ms: float) -> None:
        now = self._clock()
        self._samples.append((now, latency_ms))
        self._trim(now)

    def values(self) -> list[float]:
        self._trim(self._clock())
        return [value for _, value in self._samples]

    def median(self) -> int:
        values = self.values()
        return round(statistics.median(values)) if values else -1

    def _trim(self, now: float) -> None:
        while self._samples and self._samples[0][0] < now - self.window:
            self._samples.popleft()
