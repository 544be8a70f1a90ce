"""Stall detection and tiered restart backoff: pure policy with an injectable clock.

Nothing here sleeps or spawns; `process.FfmpegProcess` asks these objects what to do, and tests
drive them with a fake clock so every tier and reset is checked exactly.

Defaults (docs/media.md): a stream is stalled after 5 s without a new frame (10 s for the
first frame of a run); restarts wait
0 (at once), 0.5, 1, 2, 4, 8, 16, 30, 30, ... seconds, with +-20 % jitter; the tier resets to
the first only after 60 s of continuous healthy streaming (frames advancing).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...


class MonotonicClock:
    """The real clock: time.monotonic()."""

    def now(self) -> float:
        return time.monotonic()


@dataclass(frozen=True)
class BackoffPolicy:
    """Delays before each restart in a row, and how long healthy streaming resets them."""

    tiers: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
    healthy_reset: float = 60.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not self.tiers or any(t < 0 for t in self.tiers):
            raise ValueError(
                f"backoff tiers must be a non-empty list of delays >= 0 s, got {self.tiers!r}"
            )
        if self.healthy_reset <= 0:
            raise ValueError(f"healthy_reset must be > 0 s, got {self.healthy_reset}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter is a fraction in [0, 1), got {self.jitter}")


class Backoff:
    """Which tier the next restart waits, given how the stream has been doing.

    Call `healthy()` whenever the stream makes progress (new frames); `next_delay()` when a run
    ended (stall or exit) and a restart is due. The tier goes up by one per restart and returns
    to the first only after `policy.healthy_reset` seconds of uninterrupted progress.
    """

    def __init__(
        self, policy: BackoffPolicy, clock: Clock, rng: random.Random | None = None
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._rng = rng or random.Random()
        self.attempt = 0
        self._healthy_since: float | None = None

    def healthy(self) -> None:
        now = self._clock.now()
        if self._healthy_since is None:
            self._healthy_since = now
        elif now - self._healthy_since >= self.policy.healthy_reset:
            self.attempt = 0

    def unhealthy(self) -> None:
        """The stream stopped advancing (stall, exit): healthy time starts over."""
        self._healthy_since = None

    def next_delay(self) -> float:
        self.unhealthy()
        tiers = self.policy.tiers
        base = tiers[min(self.attempt, len(tiers) - 1)]
        self.attempt += 1
        if self.policy.jitter and base > 0:
            base *= 1 + self._rng.uniform(-self.policy.jitter, self.policy.jitter)
        return base


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
