"""The coverage matrix: every RPC of the contract's services, every field of their requests and
every enum value of the proto descriptors, with the checks that exercised it in a run (read
from the checks' gRPC transcripts and the reports the module sent), and what none exercised.

    mediagrid conformance MODULE_DIR --coverage [--json FILE]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grpc_health.v1 import health_pb2
from rich.console import Console
from rich.table import Table

from mediagrid.conformance.recorder import EventRecorder
from mediagrid.conformance.results import RunReport
from mediagrid.conformance.transcript import tokens
from mediagrid.v1 import common_pb2, config_pb2, entity_pb2, event_pb2, module_pb2, pipeline_pb2

FILES = (module_pb2, entity_pb2, pipeline_pb2, config_pb2, event_pb2, common_pb2)
SERVICES = ("mediagrid.v1.ModuleService", "mediagrid.v1.EntityService",
            "mediagrid.v1.PipelineService", "mediagrid.v1.ConfigurableModuleService",
            "mediagrid.v1.EventService")
REPORTS = "(the module's reports)"
REPORT_RPCS = {"event": "ReportEvent", "status": "ReportStatus", "metrics": "ReportMetrics",
               "batch": "ReportBatch"}


@dataclass
class Item:
    kind: str  # rpc, field, enum value
    name: str  # EntityService/CreateEntity, CreateEntityRequest.request_id, MEDIA_TYPE_AUDIO
    key: str  # what a transcript shows: the method path, the field name, the value name
    method: str = ""  # for a field: the method whose request holds it
    checks: set[str] = field(default_factory=set)


def items() -> list[Item]:
    found: list[Item] = []
    services = [s for f in FILES for s in f.DESCRIPTOR.services_by_name.values()
                if s.full_name in SERVICES]
    services.append(health_pb2.DESCRIPTOR.services_by_name["Health"])
    for service in services:
        for method in service.methods:
            path = f"/{service.full_name}/{method.name}"
            found.append(Item("rpc", f"{service.name}/{method.name}", path))
            for f in method.input_type.fields:
                found.append(Item("field", f"{method.input_type.name}.{f.name}", f.name, path))
    for module in FILES:
        for enum in module.DESCRIPTOR.enum_types_by_name.values():
            for value in enum.values:
                if value.number != 0:
                    found.append(Item("enum value", f"{enum.name}.{value.name}", value.name))
    return found


def matrix(report: RunReport, recorder: EventRecorder | None = None) -> list[Item]:
    table = items()
    rpcs = {i.key: i for i in table if i.kind == "rpc"}
    values = {i.key: i for i in table if i.kind == "enum value"}
    fields = {(i.method, i.key): i for i in table if i.kind == "field"}
    for result in report.results:
        for call in result.transcript:
            if call.method in rpcs:
                rpcs[call.method].checks.add(result.check.name)
            for token in call.tokens:
                if (call.method, token) in fields:
                    fields[(call.method, token)].checks.add(result.check.name)
                if token in values:
                    values[token].checks.add(result.check.name)
    for attempt in recorder.attempts if recorder else ():
        path = f"/mediagrid.v1.EventService/{REPORT_RPCS[attempt.rpc]}"
        rpcs[path].checks.add(REPORTS)
        for (method, _), item in fields.items():
            if method == path:
                item.checks.add(REPORTS)
        for token in tokens(attempt.report):
            if token in values:
                values[token].checks.add(REPORTS)
    return table


def to_json(table: list[Item]) -> dict[str, object]:
    return {"items": [{"kind": i.kind, "name": i.name, "checks": sorted(i.checks)}
                      for i in table],
            "untested": [i.name for i in table if not i.checks]}


def print_matrix(table: list[Item], console: Console) -> None:
    grid = Table(title="coverage: what this run exercised", title_justify="left")
    for column in ("kind", "name", "checks"):
        grid.add_column(column, overflow="fold")
    for item in table:
        names = sorted(item.checks)
        shown = ", ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else "")
        grid.add_row(item.kind, item.name, shown or "[red]untested[/]")
    console.print(grid)
    left = [i.name for i in table if not i.checks]
    console.print(f"coverage: {len(table) - len(left)} of {len(table)} RPCs, request fields and "
                  f"enum values exercised; untested: {', '.join(left) or 'nothing'}",
                  highlight=False)
