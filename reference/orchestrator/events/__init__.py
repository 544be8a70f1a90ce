"""Events: the durable event log, EventService and SubscribeToEvents (docs/events.md).

    from mediagrid.reference.orchestrator.events import EventBus, EventSettings

One file per concern: `log` (SQLite tables, append with deduplication, the retained window),
`writer` (the writing thread and group commit), `ingest` (EventService), `cursors`, `filters`,
`reader` (catch-up from the log), `subscription` (one subscriber's stream), `fanout` (live
delivery), `timing` (bookmark clocks), `wire` (envelopes encoded once), `bus` (all of it),
`serve` (the bus alone on a port) and `command` (`mediagrid events`).
"""

from mediagrid.reference.orchestrator.events.bus import EventBus, EventStats
from mediagrid.reference.orchestrator.events.log import LogWriteError
from mediagrid.reference.orchestrator.events.settings import EventSettings
from mediagrid.reference.orchestrator.events.timing import LoopTimer, ManualTimer, Timer
from mediagrid.reference.orchestrator.events.writer import BusClosed

__all__ = [
    "BusClosed", "EventBus", "EventSettings", "EventStats", "LogWriteError", "LoopTimer",
    "ManualTimer", "Timer",
]
