"""The orchestrator's own reports about modules (rule E-17), and what `mediagrid up` shows.

`MODULE_STATE_CHANGED` whenever the state or health the orchestrator sees changes, with
`details`: old_state, new_state, old_health, new_health, instance_id, error_message.
`MODULE_RESTARTED` when a new instance of a module is up, with `details`: instance_id (the
new one), old_instance_id, reason, restart_count. Both go through the event log
(`bus.publish`); listeners (the `mediagrid up` screen, benchmarks) hear them first, at once.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from mediagrid.reference.orchestrator.modules import (
    ERROR,
    HEALTHY,
    READY,
    UNHEALTHY,
    ModuleView,
    health_name,
    state_name,
)
from mediagrid.v1 import event_pb2

log = logging.getLogger("mediagrid.orchestrator")


class Publisher(Protocol):
    """The event log's side the orchestrator writes to (EventBus.publish)."""

    def publish(self, module_id: str, event: event_pb2.Event) -> Awaitable[object]: ...


@dataclass(frozen=True)
class Notice:
    """One thing that happened to a module, for listeners."""

    kind: str  # "say", "changed" (state or health) or "restarted"
    module_id: str
    text: str  # what happened, or why (the module's error message on a change)
    state: int
    health: int
    old_state: int
    old_health: int
    address: str
    instance_id: str
    pid: int
    at: float  # time.monotonic() when it was noticed


Listener = Callable[[Notice], None]


class StateReporter:
    def __init__(self, bus: Publisher) -> None:
        self.bus = bus
        self.listeners: list[Listener] = []

    def _notify(self, view: ModuleView, text: str, kind: str, old_state: int = 0,
                old_health: int = 0) -> None:
        notice = Notice(kind, view.id, text, view.state, view.health, old_state, old_health,
                        view.address, view.instance_id, view.pid, time.monotonic())
        for listener in list(self.listeners):
            try:
                listener(notice)
            except Exception:  # a listener's bug must not stop supervision
                log.exception("listener failed on %s", notice)

    def say(self, view: ModuleView, text: str) -> None:
        log.info("%s: %s", view.id, text)
        self._notify(view, text, "say")

    async def changed(self, view: ModuleView, old_state: int, old_health: int,
                      extra: dict[str, str] | None = None) -> None:
        old = f"{state_name(old_state)}/{health_name(old_health)}"
        new = f"{state_name(view.state)}/{health_name(view.health)}"
        why = f": {view.error_message}" if view.error_message else ""
        self._notify(view, view.error_message, "changed", old_state, old_health)
        severity = (event_pb2.EVENT_SEVERITY_ERROR if view.state == ERROR or view.health ==
                    UNHEALTHY else event_pb2.EVENT_SEVERITY_INFO if view.health in (0, HEALTHY)
                    else event_pb2.EVENT_SEVERITY_WARNING)
        await self._publish(view, event_pb2.EVENT_TYPE_MODULE_STATE_CHANGED, severity,
                            f"module {view.id}: {old} -> {new}{why}", {
                                "old_state": state_name(old_state),
                                "new_state": state_name(view.state),
                                "old_health": health_name(old_health),
                                "new_health": health_name(view.health),
                                "instance_id": view.instance_id,
                                "error_message": view.error_message,
                                **(extra or {}),
                            })

    async def restarted(self, view: ModuleView, old_instance: str, reason: str) -> None:
        self._notify(view, reason, "restarted")
        await self._publish(view, event_pb2.EVENT_TYPE_MODULE_RESTARTED,
                            event_pb2.EVENT_SEVERITY_WARNING,
                            f"module {view.id} restarted: {reason}", {
                                "instance_id": view.instance_id,
                                "old_instance_id": old_instance,
                                "reason": reason,
                                "restart_count": str(view.restart_count),
                            })

    async def _publish(self, view: ModuleView, kind: int, severity: int, message: str,
                       details: dict[str, str]) -> None:
        event = event_pb2.Event(id=f"orchestrator-{uuid.uuid4().hex}", type=kind,
                                severity=severity, source_module_id=view.id, message=message,
                                details=details)
        event.timestamp.GetCurrentTime()
        try:
            await self.bus.publish(view.id, event)
        except Exception:  # the log failing must not stop supervision; say so loudly
            log.exception("could not write %s for %s to the event log",
                          event_pb2.EventType.Name(kind), view.id)


__all__ = ["READY", "Listener", "Notice", "Publisher", "StateReporter"]
