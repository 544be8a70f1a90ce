"""Exponential backoff with jitter and an injectable random source (exact in tests)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """initial, initial*factor, ... capped at `cap`, each scaled by 1 ± jitter (uniform).

    The contract's report retry is Backoff(0.05, 2.0, 2.0, 0.2) (rule E-3).
    """

    initial: float = 0.05
    factor: float = 2.0
    cap: float = 2.0
    jitter: float = 0.2
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next(self) -> float:
        """The delay before the next retry; each call counts one failure."""
        base = min(self.cap, self.initial * self.factor**self.attempt)
        self.attempt += 1
        return base * (1.0 + self.jitter * (2.0 * self.rng.random() - 1.0))

    def reset(self) -> None:
        self.attempt = 0
