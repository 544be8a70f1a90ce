"""Stall detection: pure policy with an injectable clock.

Nothing here sleeps or spawns; `process.FfmpegProcess` asks the watchdog whether a run has
stalled, and tests drive it with a fake clock so every limit is checked exactly.

Defaults (docs/media.md): a stream is stalled after 5 s without a new frame (10 s for the
first frame of a run). Restarts use the project's one backoff (`mediagrid.backoff.RESTART`):
0 (at once), 0.5, 1, 2, 4, 8, 16, 30, 30, ... seconds, with +-20 % jitter; the count resets
only after 60 s of continuous healthy streaming (frames advancing).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...


class MonotonicClock:
    """The real clock: time.monotonic()."""

    def now(self) -> float:
        return time.monotonic()


class StallWatchdog:
    """A run is stalled when its frame count has not risen for `stall_timeout` seconds.

    Before the run's first frame the limit is `start_timeout` instead (connecting to a camera
    and probing its stream takes a few seconds); it defaults to `stall_timeout`. The clock
    starts at `started()`, so a source that never delivers its first frame stalls too.
    """

    def __init__(
        self, stall_timeout: float, clock: Clock, start_timeout: float | None = None
    ) -> None:
        if stall_timeout <= 0:
            raise ValueError(f"stall_timeout must be > 0 s, got {stall_timeout}")
        if start_timeout is not None and start_timeout <= 0:
            raise ValueError(f"start_timeout must be > 0 s, got {start_timeout}")
        self.stall_timeout = stall_timeout
        self.start_timeout = stall_timeout if start_timeout is None else start_timeout
        self._clock = clock
        self._last_frame = -1
        self._streaming = False
        self._last_advance = clock.now()

    def started(self) -> None:
        self._last_frame = -1
        self._streaming = False
        self._last_advance = self._clock.now()

    def frames(self, frame: int) -> bool:
        """Records a frame count; True when it advanced."""
        if frame > self._last_frame:
            advanced = self._last_frame >= 0 or frame > 0
            self._last_frame = frame
            if advanced:
                self._streaming = True
                self._last_advance = self._clock.now()
            return advanced
        return False

    def remaining(self) -> float:
        """Seconds until the run counts as stalled (<= 0: stalled now)."""
        limit = self.stall_timeout if self._streaming else self.start_timeout
        return limit - (self._clock.now() - self._last_advance)

    def stalled(self) -> bool:
        return self.remaining() <= 0

    @property
    def streaming(self) -> bool:
        """True once the run has shown a new frame."""
        return self._streaming
