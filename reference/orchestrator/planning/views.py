"""Tables of flows and entities for `mediagrid status` and `mediagrid pipeline list`."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from mediagrid.v1 import (
    common_pb2,
    entity_pb2,
    orchestrator_pb2,
    orchestrator_pb2_grpc,
    pipeline_pb2,
)

op = orchestrator_pb2
COLOURS = {"ACTIVE": "green", "INITIALIZING": "yellow", "ERROR": "red", "STOPPED": "dim"}


def state_of(flow: pipeline_pb2.Flow) -> str:
    return pipeline_pb2.FlowState.Name(flow.status.state).removeprefix("FLOW_STATE_")


def rate(bps: int) -> str:
    if bps >= 1_000_000:
        return f"{bps / 1e6:.1f} Mbit/s"
    return f"{bps / 1e3:.0f} kbit/s" if bps else "-"


def path_of(flow: pipeline_pb2.Flow) -> str:
    """The flow's entities, source to sink (their modules are in the entities table)."""
    if not flow.connections:
        return ""
    return " -> ".join([flow.connections[0].source_entity_id,
                        *(c.target_entity_id for c in flow.connections)])


def flow_table(flows: list[pipeline_pb2.Flow], title: str = "flows") -> Table:
    grid = Table(title=title, title_justify="left")
    for column in ("flow", "state", "fps", "bitrate", "bandwidth", "latency", "path"):
        grid.add_column(column, no_wrap=column != "path")
    for flow in flows:
        state = state_of(flow)
        last = flow.connections[-1].metrics if flow.connections else None
        latency = flow.status.latency_ms
        grid.add_row(escape(flow.id), f"[{COLOURS.get(state, 'white')}]{state}[/]",
                     f"{flow.metrics.fps:.1f}" if flow.metrics.fps else "-",
                     rate(last.bitrate_bps if last else 0), rate(flow.status.bandwidth_usage),
                     f"{latency} ms" if latency >= 0 else "-", escape(path_of(flow)))
    return grid


def flow_errors(flows: list[pipeline_pb2.Flow]) -> list[str]:
    """One line per flow in ERROR, with why (printed under the table, not in it)."""
    return [f"[red]{escape(f.id)}[/]: {escape(f.status.error_message)}" for f in flows
            if state_of(f) == "ERROR" and f.status.error_message]


async def list_flows(stub: orchestrator_pb2_grpc.OrchestratorServiceStub,
                     metadata: tuple[tuple[str, str], ...] = (),
                     include_stopped: bool = False) -> list[pipeline_pb2.Flow]:
    flows: list[pipeline_pb2.Flow] = []
    token = ""
    while True:
        request = op.ListFlowsRequest(include_stopped=include_stopped)
        request.page.page_token = token
        page = await stub.ListFlows(request, timeout=15, metadata=metadata)
        flows.extend(page.flows)
        token = page.next_page_token
        if not token:
            return flows




async def list_entities(stub: orchestrator_pb2_grpc.OrchestratorServiceStub,
                        metadata: tuple[tuple[str, str], ...] = ()) -> list[entity_pb2.Entity]:
    """Every entity of every READY module (ListEntities over all modules, page by page)."""
    found: list[entity_pb2.Entity] = []
    token = ""
    while True:
        request = op.OrchestratorServiceListEntitiesRequest()
        request.request.page.page_token = token
        page = await stub.ListEntities(request, timeout=15, metadata=metadata)
        found.extend(page.entities)
        token = page.next_page_token
        if not token:
            return found


def entity_table(entities: list[entity_pb2.Entity]) -> Table:
    grid = Table(title="entities", title_justify="left")
    for column in ("module", "entity", "kind", "type", "media", "state"):
        grid.add_column(column, no_wrap=True)
    grid.add_column("error", no_wrap=True, overflow="ellipsis", max_width=40)
    for entity in entities:
        kind = entity.WhichOneof("entity") or ""
        e = getattr(entity, kind) if kind else None
        if e is None:
            continue
        state_text = common_pb2.EntityState.Name(e.status.state).removeprefix("ENTITY_STATE_")
        media = common_pb2.MediaType.Name(e.media_type).removeprefix("MEDIA_TYPE_").lower()
        grid.add_row(escape(entity.module_id), escape(e.id), kind, escape(e.type), media,
                     state_text, f"[dim]{escape(e.status.error_message)}[/]")
    return grid

