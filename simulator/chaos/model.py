"""The desired state as the workload's services know it: every entity, connection and flow
the orchestrator said OK to, and nothing it refused. Calls whose outcome is unknown (the
orchestrator was killed mid-call, a deadline passed) leave their items *uncertain*: nobody
touches them again until the runner resolves them after healing, by repeating the call
(every call the workload makes is idempotent by the contract: request_id, connection and
flow ids), as Jepsen resolves indeterminate operations.

`diff()` compares a module's actual state (the simulated module's GetState) with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, ...]  # ("e", module, entity) | ("c", connection) | ("f", flow)


@dataclass
class EntityItem:
    module: str
    id: str
    type: str
    media: int
    request_id: str
    config: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        return ("e", self.module, self.id)


@dataclass
class ConnectionItem:
    id: str
    source: tuple[str, str]  # (module, entity)
    target: tuple[str, str]
    media: int

    @property
    def key(self) -> Key:
        return ("c", self.id)

    @property
    def modules(self) -> set[str]:
        return {self.source[0], self.target[0]}


@dataclass
class FlowItem:
    id: str
    connections: list[str]
    running: bool = True

    @property
    def key(self) -> Key:
        return ("f", self.id)


@dataclass
class Model:
    entities: dict[tuple[str, str], EntityItem] = field(default_factory=dict)
    connections: dict[str, ConnectionItem] = field(default_factory=dict)
    flows: dict[str, FlowItem] = field(default_factory=dict)
    busy: set[Key] = field(default_factory=set)
    uncertain: set[Key] = field(default_factory=set)

    def settled(self, key: Key) -> bool:
        return key not in self.busy and key not in self.uncertain

    def in_flows(self, connection_id: str, *, running_only: bool = True) -> list[FlowItem]:
        return [f for f in self.flows.values() if connection_id in f.connections
                and (f.running or not running_only or not self.settled(f.key))]

    def connections_of(self, module: str, entity: str) -> list[ConnectionItem]:
        return [c for c in self.connections.values()
                if (module, entity) in (c.source, c.target)]

    def flow_modules(self, flow: FlowItem) -> set[str]:
        return {m for c in flow.connections if c in self.connections
                for m in self.connections[c].modules}

    # -- what one module must hold ------------------------------------------------------

    def diff(self, module: str, actual: Mapping[str, Any]) -> list[str]:
        """What differs between `module`'s actual state and the settled desired state."""
        problems: list[str] = []
        have_entities = {e["id"]: e for e in actual.get("entities", [])}
        for (m, entity_id), item in self.entities.items():
            if m != module or not self.settled(item.key):
                continue
            got = have_entities.get(entity_id)
            if got is None:
                problems.append(f"entity {entity_id} is missing")
                continue
            config = got.get("config", {})
            wrong = {k: v for k, v in item.config.items() if config.get(k) != v}
            if wrong:
                problems.append(f"entity {entity_id} has config {config}, not {wrong}")
        for entity_id in have_entities:
            key = ("e", module, entity_id)
            if (module, entity_id) not in self.entities and self.settled(key):
                problems.append(f"entity {entity_id} is there but was destroyed or never made")
        have_links = {c["id"] for c in actual.get("connections", [])}
        for item in self.connections.values():
            if module in item.modules and self.settled(item.key) and item.id not in have_links:
                problems.append(f"connection {item.id} is missing")
        for link in have_links:
            if link not in self.connections and self.settled(("c", link)):
                problems.append(f"connection {link} is there but was removed or never made")
        running = [f["id"] for f in actual.get("flows", []) if f.get("state") !=
                   "FLOW_STATE_STOPPED"]
        for flow in self.flows.values():
            if module not in self.flow_modules(flow) or not self.settled(flow.key):
                continue
            parts = [r for r in running if _part_of(r, flow.id)]
            if flow.running and not parts:
                problems.append(f"flow {flow.id} is not running")
            elif not flow.running and parts:
                problems.append(f"flow {flow.id} runs ({', '.join(parts)}) but was stopped")
        for flow_id in running:
            known = [f for f in self.flows.values() if _part_of(flow_id, f.id)]
            if not known:
                problems.append(f"flow {flow_id} runs but was never started")
        return problems

    def expected_modules(self) -> set[str]:
        modules = {m for m, _ in self.entities}
        for item in self.connections.values():
            modules |= item.modules
        return modules


def _part_of(module_flow_id: str, flow_id: str) -> bool:
    """A module runs its part of flow F as F, or as F--N after a re-pointed connection."""
    return module_flow_id == flow_id or module_flow_id.startswith(f"{flow_id}--")


def keys_of(items: Iterable[EntityItem | ConnectionItem | FlowItem]) -> set[Key]:
    return {item.key for item in items}
