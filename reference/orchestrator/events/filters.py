"""Which envelopes a subscriber asked for (`EventFilter`), decided before buffering (E-18).

Every envelope is described by a small `FilterKey` taken once, when it is written, from the
report: the same key decides live delivery and catch-up from the log, so the two can never
disagree. A `Filter` is hashable: subscribers with the same filter share one evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from mediagrid.v1 import event_pb2, orchestrator_pb2

KIND_EVENT, KIND_STATUS, KIND_METRICS = 1, 2, 3
KINDS = {"event": KIND_EVENT, "status": KIND_STATUS, "metrics": KIND_METRICS}
KIND_NAMES = {v: k for k, v in KINDS.items()}
MAX_ID_LENGTH = 128


class FilterKey(NamedTuple):
    module_id: str
    kind: int
    event_type: int
    severity: int
    entity_id: str
    flow_id: str


def key_of(report: event_pb2.ModuleReport) -> FilterKey:
    """The filter key of one report (events, status updates and metrics alike)."""
    kind = report.WhichOneof("report")
    module_id = report.header.module_id
    if kind == "event":
        e = report.event
        return FilterKey(module_id, KIND_EVENT, e.type, e.severity, e.source_entity_id, e.flow_id)
    if kind == "status":
        return FilterKey(module_id, KIND_STATUS, 0, 0, report.status.entity_id, "")
    m = report.metrics
    return FilterKey(module_id, KIND_METRICS, 0, 0, m.entity_id, m.flow_id)


class FilterError(ValueError):
    """An EventFilter that cannot be applied; the message names the field and the fix."""


@dataclass(frozen=True)
class Filter:
    """A checked EventFilter. Every non-empty field must match (EventFilter's rule)."""

    modules: frozenset[str] = frozenset()
    event_types: frozenset[int] = frozenset()
    entity_id: str = ""
    flow_id: str = ""
    kinds: frozenset[int] = frozenset({KIND_EVENT})
    min_severity: int = 0

    @classmethod
    def from_proto(cls, f: orchestrator_pb2.EventFilter) -> Filter:
        known_types = set(event_pb2.EventType.values()) - {event_pb2.EVENT_TYPE_UNSPECIFIED}
        unknown = [t for t in f.event_types if t not in known_types]
        if unknown:
            raise FilterError(
                f"filter.event_types: {unknown} are not event types; use EVENT_TYPE_* values "
                "(1 to 13), or leave the list empty for every type"
            )
        if f.min_severity not in event_pb2.EventSeverity.values():
            raise FilterError(
                f"filter.min_severity: {f.min_severity} is not a severity; use EVENT_SEVERITY_*"
                " (0 for all)"
            )
        for name in ("entity_id", "flow_id"):
            if len(getattr(f, name)) > MAX_ID_LENGTH:
                raise FilterError(f"filter.{name} is longer than {MAX_ID_LENGTH} characters")
        kinds = {KIND_EVENT}
        if f.include_status:
            kinds.add(KIND_STATUS)
        if f.include_metrics:
            kinds.add(KIND_METRICS)
        return cls(frozenset(f.module_ids), frozenset(f.event_types), f.entity_id, f.flow_id,
                   frozenset(kinds), f.min_severity)

    def match(self, key: FilterKey) -> bool:
        if key.kind not in self.kinds:
            return False
        if self.modules and key.module_id not in self.modules:
            return False
        if self.entity_id and key.entity_id != self.entity_id:
            return False
        if self.flow_id and key.flow_id != self.flow_id:
            return False
        if key.kind == KIND_EVENT:  # event types and severity apply to events only
            if self.event_types and key.event_type not in self.event_types:
                return False
            if key.severity < self.min_severity:
                return False
        return True
