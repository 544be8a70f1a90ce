"""How `mediagrid events` shows an envelope: one coloured line, or one JSON object."""

from __future__ import annotations

import datetime
import json
from typing import Any

from google.protobuf import json_format
from rich.text import Text

from mediagrid.v1 import common_pb2, event_pb2, orchestrator_pb2

SEVERITY_STYLE = {
    event_pb2.EVENT_SEVERITY_WARNING: "yellow",
    event_pb2.EVENT_SEVERITY_ERROR: "red",
    event_pb2.EVENT_SEVERITY_CRITICAL: "bold red",
}
ORCHESTRATOR_TYPES = {event_pb2.EVENT_TYPE_MODULE_STATE_CHANGED,
                      event_pb2.EVENT_TYPE_MODULE_RESTARTED}


def type_name(value: int) -> str:
    return event_pb2.EventType.Name(value).removeprefix("EVENT_TYPE_")


def severity_name(value: int) -> str:
    return event_pb2.EventSeverity.Name(value).removeprefix("EVENT_SEVERITY_").lower()


def _time(envelope: orchestrator_pb2.EventEnvelope) -> str:
    when = envelope.received_at.ToDatetime(tzinfo=datetime.UTC).astimezone()
    return when.strftime("%H:%M:%S.") + f"{when.microsecond // 1000:03d}"


def _value(v: common_pb2.MetricValue) -> str:
    kind = v.WhichOneof("value")
    if kind == "double_value":
        return f"{v.double_value:g}"
    return str(getattr(v, kind)) if kind else ""


def _pairs(items: Any) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(items))


def line(envelope: orchestrator_pb2.EventEnvelope) -> Text:
    """One envelope as a terminal line: time, module, what, about what, the message."""
    report = envelope.report
    text = Text(f"{_time(envelope)}  ", style="dim")
    text.append(f"{report.header.module_id:<16} ", style="bold")
    kind = report.WhichOneof("report")
    if kind == "event":
        e = report.event
        style = SEVERITY_STYLE.get(e.severity, "cyan" if e.type in ORCHESTRATOR_TYPES else "")
        text.append(f"{type_name(e.type):<20} ", style=style or "green")
        about = " ".join(x for x in (e.source_entity_id, e.connection_id and
                                     f"connection {e.connection_id}",
                                     e.flow_id and f"flow {e.flow_id}") if x)
        if about:
            text.append(f"{about}  ", style="magenta")
        text.append(e.message, style=style)
        if e.details:
            text.append(f"  {_pairs(e.details.items())}", style="dim")
    elif kind == "status":
        s = report.status
        state = common_pb2.EntityState.Name(s.entity_status.state).removeprefix("ENTITY_STATE_")
        health = common_pb2.HealthStatus.Name(s.entity_status.health).removeprefix(
            "HEALTH_STATUS_")
        text.append(f"{'STATUS':<20} ", style="blue")
        text.append(f"{s.entity_id}  ", style="magenta")
        text.append(f"{state}/{health}")
        if s.entity_status.error_message:
            text.append(f"  {s.entity_status.error_message}", style="red")
    else:
        m = report.metrics
        text.append(f"{'METRICS':<20} ", style="blue")
        about = " ".join(x for x in (m.entity_id, m.flow_id and f"flow {m.flow_id}") if x)
        if about:
            text.append(f"{about}  ", style="magenta")
        text.append(_pairs((k, _value(v)) for k, v in m.metrics.items()))
    return text


def as_json(envelope: orchestrator_pb2.EventEnvelope) -> str:
    """One envelope as one line of JSON: cursor, received_at and the report as sent."""
    return json.dumps({
        "cursor": envelope.cursor,
        "received_at": envelope.received_at.ToJsonString(),
        "report": json_format.MessageToDict(envelope.report, preserving_proto_field_name=True),
    })
