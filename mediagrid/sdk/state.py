"""The module's lifecycle state machine and health (rules H-1..H-4).

STARTING -> READY | ERROR | STOPPING;  READY -> ERROR | STOPPING;  ERROR -> READY | STOPPING;
STOPPING is terminal. HealthCheck reads a snapshot of this object and never waits on a lock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from mediagrid.sdk.types import Health, NamedIntEnum
from mediagrid.v1 import module_pb2


class ModuleState(NamedIntEnum):
    STARTING = module_pb2.MODULE_STATE_STARTING
    READY = module_pb2.MODULE_STATE_READY
    ERROR = module_pb2.MODULE_STATE_ERROR
    STOPPING = module_pb2.MODULE_STATE_STOPPING


ALLOWED: dict[ModuleState, frozenset[ModuleState]] = {
    ModuleState.STARTING: frozenset({ModuleState.READY, ModuleState.ERROR, ModuleState.STOPPING}),
    ModuleState.READY: frozenset({ModuleState.ERROR, ModuleState.STOPPING}),
    ModuleState.ERROR: frozenset({ModuleState.READY, ModuleState.STOPPING}),
    ModuleState.STOPPING: frozenset(),
}


class TransitionError(RuntimeError):
    """A state change the module state machine does not allow."""


Listener = Callable[[ModuleState, ModuleState], None]


@dataclass
class ModuleStatusTracker:
    """State, health and the instance id of one module process."""

    clock: Callable[[], float] = time.time
    instance_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: ModuleState = ModuleState.STARTING
    health: Health = Health.HEALTHY
    error_message: str = ""
    listeners: list[Listener] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    def transition(self, new: ModuleState, error_message: str = "") -> bool:
        """Moves to `new`; False when already there; raises TransitionError when forbidden."""
        old = self.state
        if new == old:
            return False
        if new not in ALLOWED[old]:
            raise TransitionError(f"module state {old.name} cannot change to {new.name}")
        self.state = new
        if new is ModuleState.ERROR:
            self.error_message = error_message or "module failed"
            self.health = Health.UNHEALTHY
        elif new is ModuleState.READY:
            self.error_message = ""
            self.health = Health.HEALTHY
        for listener in list(self.listeners):
            listener(old, new)
        return True

    def set_health(self, health: Health, message: str = "") -> None:
        """DEGRADED or UNHEALTHY with a reason; HEALTHY clears the reason. In ERROR the module
        stays UNHEALTHY with the error's message (rule H-25)."""
        if self.state is ModuleState.ERROR:
            return
        self.health = health
        self.error_message = "" if health is Health.HEALTHY else message

    @property
    def ready(self) -> bool:
        return self.state is ModuleState.READY

    def to_proto(self, out: module_pb2.ModuleStatus) -> None:
        out.state = int(self.state)
        out.health = int(self.health)
        out.error_message = self.error_message
        out.instance_id = self.instance_id
        out.last_heartbeat.FromNanoseconds(int(self.clock() * 1e9))
        out.started_at.FromNanoseconds(int(self.started_at * 1e9))
