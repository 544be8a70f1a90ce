"""Events: the durable event log, EventService and SubscribeToEvents (docs/events.md).

    from mediagrid.reference.orchestrator.events import EventBus, EventSettings

One file per concern: `log` (SQLite tables, append with deduplication, the retained window),
`writer` (the writing thread and group commit), `ingest` (EventService), `cursors`, `filters`,
`reader` (catch-up from the log), `subscription` (one subscriber's stream), `fanout` (live
delivery), `timing` (bookmark clocks), `wire` (envelopes encoded once), `bus` (all of it),
`serve` (the bus alone on a port) and `command` (`mediagrid events`).

The names below are imported when first used, so `mediagrid --help` (which registers the
events command) does not load gRPC and SQLite.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediagrid.reference.orchestrator.events.bus import EventBus, EventStats
    from mediagrid.reference.orchestrator.events.log import LogWriteError
    from mediagrid.reference.orchestrator.events.settings import EventSettings
    from mediagrid.reference.orchestrator.events.timing import LoopTimer, ManualTimer, Timer
    from mediagrid.reference.orchestrator.events.writer import BusClosed

_HOMES = {
    "BusClosed": "writer", "EventBus": "bus", "EventSettings": "settings",
    "EventStats": "bus", "LogWriteError": "log", "LoopTimer": "timing",
    "ManualTimer": "timing", "Timer": "timing",
}
__all__ = [
    "BusClosed", "EventBus", "EventSettings", "EventStats", "LogWriteError", "LoopTimer",
    "ManualTimer", "Timer",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
