"""Backoff delays from a module.yaml Backoff: pure, so tests can check them exactly."""

from __future__ import annotations

import random
from collections.abc import Iterator

from mediagrid.manifest.model import Backoff


def backoff_delays(policy: Backoff, rng: random.Random | None = None) -> Iterator[float]:
    """Endless delays in seconds: min(initial * multiplier**n, max), each scaled by a
    uniform factor in [1 - jitter, 1 + jitter] (the gRPC connection-backoff shape).
    Pass a seeded `rng` (or jitter 0) for a reproducible sequence."""
    rng = rng or random.Random()
    base = policy.initial
    while True:
        yield base * (1.0 + rng.uniform(-policy.jitter, policy.jitter))
        base = min(base * policy.multiplier, policy.max)
