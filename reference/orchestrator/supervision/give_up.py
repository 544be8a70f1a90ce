"""Give-up intensity (rule H-17): more than `max_restarts` restarts within `window` seconds
and the module stays in ERROR until an operator calls RestartModule.

As an OTP supervisor's intensity: the restart that would be number `max_restarts + 1` within
the window is not made. The clock is injectable, so tests check the boundary exactly.
"""

from __future__ import annotations

import collections
import time

from mediagrid.backoff import Clock
from mediagrid.manifest.model import GiveUp


class GiveUpWindow:
    def __init__(self, policy: GiveUp, clock: Clock = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._restarts: collections.deque[float] = collections.deque()

    def _forget_old(self, now: float) -> None:
        while self._restarts and now - self._restarts[0] >= self.policy.window:
            self._restarts.popleft()

    def allows_restart(self) -> bool:
        """False when one more restart now would be more than max_restarts in the window."""
        now = self._clock()
        self._forget_old(now)
        return len(self._restarts) < self.policy.max_restarts

    def record(self) -> None:
        """A restart is made now."""
        self._restarts.append(self._clock())

    def in_window(self) -> int:
        self._forget_old(self._clock())
        return len(self._restarts)

    def reset(self) -> None:
        """An operator's RestartModule: the count starts over."""
        self._restarts.clear()
