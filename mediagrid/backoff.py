"""One backoff for the whole project: restarts, start-up retries, report retries, media restarts.

The vocabulary is `module.yaml`'s (`initial`, `multiplier`, `max`, `jitter`, `reset_after`):

    delay n = min(initial * multiplier**n, max) * uniform(1 - jitter, 1 + jitter)

`first_at_once` puts a 0 in front (the orchestrator's first restart, a media process's first
restart). `reset_after` is how long the thing must keep running well (`healthy()` calls
without an `unhealthy()` or a `next_delay()` between) before the count starts over.

`BackoffPolicy` is plain data; `Backoff` holds the count and takes an injectable clock and
random source, so tests check every delay and every reset exactly.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Clock = Callable[[], float]
"""Seconds on a monotonic scale (time.monotonic, or a test's hand-moved clock)."""


@dataclass(frozen=True)
class BackoffPolicy:
    """How delays grow. Raises ValueError naming the setting when a value is out of range."""

    initial: float
    multiplier: float = 2.0
    max: float = 30.0
    jitter: float = 0.2
    reset_after: float | None = None
    first_at_once: bool = False

    def __post_init__(self) -> None:
        for name in ("initial", "multiplier", "max", "jitter"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"backoff {name} must be a finite number, got {value!r}")
        if self.initial < 0:
            raise ValueError(f"backoff initial must be >= 0 s, got {self.initial}")
        if self.multiplier < 1:
            raise ValueError(f"backoff multiplier must be >= 1, got {self.multiplier}")
        if self.max < self.initial:
            raise ValueError(
                f"backoff initial ({self.initial} s) is longer than max ({self.max} s):"
                " make initial at most max"
            )
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"backoff jitter is a fraction from 0 to 1, got {self.jitter}")
        if self.reset_after is not None and not self.reset_after > 0:
            raise ValueError(f"backoff reset_after must be > 0 s, got {self.reset_after}")

    def base_delay(self, attempt: int) -> float:
        """The un-jittered delay before retry number `attempt` (0 for the first)."""
        if self.first_at_once:
            if attempt == 0:
                return 0.0
            attempt -= 1
        # Stop multiplying once past max: multiplier**attempt would overflow for large counts.
        delay = self.initial
        for _ in range(attempt):
            if delay >= self.max:
                break
            delay *= self.multiplier
        return min(delay, self.max)

    def jittered(self, base: float, rng: random.Random) -> float:
        if not self.jitter or base <= 0:
            return base
        return base * (1.0 + rng.uniform(-self.jitter, self.jitter))

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """Endless jittered delays, for a retry loop with no healthy time to track."""
        rng = rng or random.Random()
        attempt = 0
        while True:
            yield self.jittered(self.base_delay(attempt), rng)
            attempt += 1


# The contract's defaults (docs/contract.md §9).
STARTUP_RETRY = BackoffPolicy(initial=0.05, multiplier=1.6, max=1.0, jitter=0.2)  # rule H-21
RESTART = BackoffPolicy(initial=0.5, multiplier=2.0, max=30.0, jitter=0.2, reset_after=60.0,
                        first_at_once=True)  # rule H-16; media restarts use it too
REPORT_RETRY = BackoffPolicy(initial=0.05, multiplier=2.0, max=2.0, jitter=0.2)  # rule E-3


class Backoff:
    """A running count of delays in a row under a policy.

    `next_delay()` when a retry or restart is due (it also ends any healthy stretch);
    `healthy()` whenever the thing shows it works (a READY health check, a new frame, an
    acknowledged report); `unhealthy()` when it stops working without a retry being due yet.
    After `policy.reset_after` seconds of healthy time in one stretch the count starts over;
    with `reset_after` None only `reset()` does that.
    """

    def __init__(
        self, policy: BackoffPolicy, *, clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy
        self.attempt = 0
        self._clock = clock
        self._rng = rng or random.Random()
        self._healthy_since: float | None = None

    def next_delay(self) -> float:
        self.unhealthy()
        base = self.policy.base_delay(self.attempt)
        self.attempt += 1
        return self.policy.jittered(base, self._rng)

    def healthy(self) -> None:
        now = self._clock()
        if self._healthy_since is None:
            self._healthy_since = now
        elif (self.policy.reset_after is not None
              and now - self._healthy_since >= self.policy.reset_after):
            self.attempt = 0

    def unhealthy(self) -> None:
        """Healthy time starts over; the count is kept."""
        self._healthy_since = None

    def reset(self) -> None:
        """The count starts over at once (an operator restart, an acknowledged report)."""
        self.attempt = 0
        self._healthy_since = None

    @property
    def healthy_for(self) -> float:
        """Seconds of the current healthy stretch (0 when not healthy)."""
        return 0.0 if self._healthy_since is None else self._clock() - self._healthy_since
