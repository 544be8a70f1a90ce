"""What the orchestrator knows of each module (ModuleInfo), and finding a module by id.

`ModuleView` is the supervisor's record of one module: state and health as the orchestrator
sees them (READY only once its desired state is re-created, rule H-15), its address, instance,
restart count and last error. `ModuleRegistry` maps ids to supervisors and answers NOT_FOUND
for an unknown id and UNAVAILABLE, naming the module and its state, for one not READY.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mediagrid.manifest.model import ModuleManifest
from mediagrid.reference.orchestrator.errors import not_found, unavailable
from mediagrid.v1 import common_pb2, module_pb2

if TYPE_CHECKING:
    from mediagrid.reference.orchestrator.supervision.supervisor import ModuleSupervisor

STARTING = module_pb2.MODULE_STATE_STARTING
READY = module_pb2.MODULE_STATE_READY
ERROR = module_pb2.MODULE_STATE_ERROR
STOPPING = module_pb2.MODULE_STATE_STOPPING
HEALTHY = common_pb2.HEALTH_STATUS_HEALTHY
DEGRADED = common_pb2.HEALTH_STATUS_DEGRADED
UNHEALTHY = common_pb2.HEALTH_STATUS_UNHEALTHY


def state_name(state: int) -> str:
    return module_pb2.ModuleState.Name(state).removeprefix("MODULE_STATE_")


def health_name(health: int) -> str:
    return common_pb2.HealthStatus.Name(health).removeprefix("HEALTH_STATUS_")


@dataclass
class ModuleView:
    manifest: ModuleManifest
    state: int = STARTING
    health: int = HEALTHY
    error_message: str = ""
    address: str = ""
    instance_id: str = ""
    pid: int = 0
    started_at: float = 0.0  # wall clock of the current instance's start
    last_heartbeat: float = 0.0  # wall clock of the last good HealthCheck
    restart_count: int = 0
    last_error: str = ""
    entity_types: list[module_pb2.EntityTypeInfo] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.manifest.id

    def to_proto(self) -> module_pb2.ModuleInfo:
        m = self.manifest
        info = module_pb2.ModuleInfo(
            id=m.id, name=m.name or m.id, version=m.version, description=m.description,
            grpc_address=self.address, restart_count=self.restart_count,
            manifest_path=str(m.path), last_error=self.last_error, pid=self.pid,
            configurable=m.configurable,
            entity_types=self.entity_types or m.entity_type_infos())
        status = info.status
        status.state, status.health = self.state, self.health
        status.error_message, status.instance_id = self.error_message, self.instance_id
        if self.last_heartbeat:
            status.last_heartbeat.FromNanoseconds(int(self.last_heartbeat * 1e9))
        if self.started_at:
            status.started_at.FromNanoseconds(int(self.started_at * 1e9))
        return info

    def heartbeat(self) -> None:
        self.last_heartbeat = time.time()


class ModuleRegistry:
    """Supervisors by module id."""

    def __init__(self) -> None:
        self._by_id: dict[str, ModuleSupervisor] = {}

    def __contains__(self, module_id: str) -> bool:
        return module_id in self._by_id

    def __iter__(self) -> Iterator[ModuleSupervisor]:
        """In id order."""
        return iter([self._by_id[k] for k in sorted(self._by_id)])

    def __len__(self) -> int:
        return len(self._by_id)

    def add(self, supervisor: ModuleSupervisor) -> None:
        self._by_id[supervisor.id] = supervisor

    def remove(self, module_id: str) -> ModuleSupervisor | None:
        return self._by_id.pop(module_id, None)

    def find(self, module_id: str) -> ModuleSupervisor | None:
        return self._by_id.get(module_id)

    def get(self, module_id: str, field_name: str = "module_id") -> ModuleSupervisor:
        """The supervisor of `module_id`; NOT_FOUND naming the known ids otherwise."""
        supervisor = self._by_id.get(module_id)
        if supervisor is None:
            known = ", ".join(sorted(self._by_id)) or "none"
            what = f"{field_name} is empty" if not module_id else \
                f"{field_name}: no module {module_id!r}"
            raise not_found(f"{what}; known modules: {known} (ListModules shows them)")
        return supervisor

    def ready(self, module_id: str, field_name: str = "module_id") -> ModuleSupervisor:
        """The supervisor of a READY module; UNAVAILABLE naming its state otherwise."""
        supervisor = self.get(module_id, field_name)
        view = supervisor.view
        if view.state != READY:
            why = f" ({view.error_message})" if view.error_message else ""
            raise unavailable(
                f"module {module_id!r} is {state_name(view.state)}, not READY{why}: retry"
                " when it is READY (GetModule shows its state)")
        return supervisor
