"""Recorded histories for the chaos runner's tests that need no process: envelopes as a
subscriber received them, and the orchestrator's events about a module."""

from __future__ import annotations

from mediagrid.simulator.chaos.subscribers import Seen
from mediagrid.v1 import event_pb2

WARNING = event_pb2.EVENT_TYPE_WARNING


def history(*items: tuple[str, int], start: int = 1) -> list[Seen]:
    """Envelopes of (instance, sequence) with rising cursors."""
    return [Seen(f"{n:024d}", "cam", instance, seq, "event")
            for n, (instance, seq) in enumerate(items, start)]


def event(at: float, kind: str = "changed", module: str = "cam", **details: str) -> Seen:
    """An E-17 event of the orchestrator about `module`: MODULE_STATE_CHANGED with its
    details, or MODULE_RESTARTED (`kind="restarted"`)."""
    type_ = event_pb2.EVENT_TYPE_MODULE_RESTARTED if kind == "restarted" else \
        event_pb2.EVENT_TYPE_MODULE_STATE_CHANGED
    return Seen("", module, "orch", 0, "event", type_, at, tuple(sorted(details.items())))
