"""The event bus's settings (docs/events.md; contract §9 gives the defaults)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

SYNCHRONOUS_MODES = ("NORMAL", "FULL", "EXTRA")


@dataclass(frozen=True)
class EventSettings:
    """How much the log keeps, how subscribers are served. ValueError names a bad setting."""

    retain_envelopes: int = 100_000
    """Retained window by count: the newest this many envelopes are kept ..."""
    retain_seconds: float = 24 * 3600
    """... and by age: envelopes older than this are dropped (whichever keeps fewer)."""
    subscriber_buffer: int = 10_000
    """Envelopes a live subscriber may be behind before it is cut off (rule E-15)."""
    bookmark_interval: float = 5.0
    """Idle seconds before a stream gets a bookmark (rule E-14)."""
    max_subscribers: int = 64
    """Concurrent subscribers; one more is RESOURCE_EXHAUSTED (rule S-7)."""
    synchronous: str = "NORMAL"
    """SQLite `PRAGMA synchronous`. NORMAL (WAL) survives a process kill; FULL also a power
    cut, at the price of an fsync per commit (docs/events.md, "Durability")."""
    busy_timeout: float = 5.0
    """Seconds a write waits for another connection's write to the same state file."""
    prune_interval: float = 1.0
    """Seconds between checks of the age limit (the count limit is checked on every write)."""
    max_commit_reports: int = 5_000
    """Most reports written in one transaction when concurrent calls are committed together."""
    catchup_page: int = 1_000
    """Log rows read at a time by a subscriber catching up from its cursor."""
    close_grace: float = 2.0
    """Seconds close() waits for subscribers to take their SHUTTING_DOWN signal."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "synchronous":
                if str(value).upper() not in SYNCHRONOUS_MODES:
                    raise ValueError(f"event setting synchronous must be one of "
                                     f"{', '.join(SYNCHRONOUS_MODES)}, got {value!r}")
                object.__setattr__(self, f.name, str(value).upper())
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or (
                    not math.isfinite(value)):
                raise ValueError(f"event setting {f.name} must be a number, got {value!r}")
            if f.type == "int" and not isinstance(value, int):
                raise ValueError(f"event setting {f.name} must be a whole number, got {value!r}")
            if value <= 0:
                raise ValueError(f"event setting {f.name} must be above 0, got {value!r}")
