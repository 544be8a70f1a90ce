"""ListConnections and ListFlows: what services made through this orchestrator, from its
desired state, so a service can see what exists (and `mediagrid status` can show it).

A connection comes with the status its flow's merged view last saw (the flow monitor's
sample), else as recorded; a running flow with its status merged from every module it spans
(the monitor's latest sample when one is fresh, else asked now, as GetFlowStatus does).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable

from mediagrid.reference.orchestrator.broker.calls import Broker
from mediagrid.reference.orchestrator.broker.flows import FlowBroker, merge
from mediagrid.reference.orchestrator.desired_state import ConnectionRecord, FlowRecord
from mediagrid.reference.orchestrator.errors import invalid
from mediagrid.v1 import common_pb2, pipeline_pb2

DEFAULT_PAGE, MAX_PAGE = 100, 1000
Latest = Callable[[str], pipeline_pb2.Flow | None]


def page_bounds(page: common_pb2.PageRequest) -> tuple[int, int]:
    """(offset, size) of a page request; INVALID_ARGUMENT naming the fault."""
    if page.page_size < 0:
        raise invalid(f"page.page_size {page.page_size} is negative: use 0 (100) to {MAX_PAGE}")
    size = min(page.page_size or DEFAULT_PAGE, MAX_PAGE)
    if not page.page_token:
        return 0, size
    try:
        offset = int(base64.urlsafe_b64decode(page.page_token.encode()).decode())
    except (ValueError, binascii.Error):
        raise invalid("page.page_token was not issued by this orchestrator: pass the"
                      " next_page_token of the previous page, or empty for the first") from None
    return offset, size


def next_token(offset: int, size: int, total: int) -> str:
    end = offset + size
    return base64.urlsafe_b64encode(str(end).encode()).decode() if end < total else ""


def connection_proto(c: ConnectionRecord) -> pipeline_pb2.Connection:
    connection = pipeline_pb2.Connection(
        id=c.connection_id, source_entity_id=c.source_entity, target_entity_id=c.target_entity,
        media_type=c.media_type, source_module_id=c.source_module,
        target_module_id=c.target_module,
        transport_protocol="local" if c.local else (c.transport or "mpegts-udp"))
    connection.quality.CopyFrom(c.quality)
    connection.status.state = pipeline_pb2.CONNECTION_STATE_ESTABLISHED
    connection.metrics.latency_ms = -1
    if c.endpoint is not None:
        connection.endpoint.CopyFrom(c.endpoint)
    return connection


class Listing:
    def __init__(self, broker: Broker, latest: Latest = lambda flow_id: None) -> None:
        self.b = broker
        self.flow_broker = FlowBroker(broker)
        self.latest = latest

    async def connections(self, page: common_pb2.PageRequest, module_id: str, deadline: float
                          ) -> tuple[list[pipeline_pb2.Connection], str]:
        offset, size = page_bounds(page)
        records = await self.b.store.connections(module_id or None)
        seen: dict[str, pipeline_pb2.Connection] = {}
        for flow in await self.b.store.flows():
            sample = self.latest(flow.flow_id)
            if sample is not None:
                seen.update({c.id: c for c in sample.connections})
        chosen = records[offset:offset + size]
        found = []
        for record in chosen:
            connection = connection_proto(record)
            if record.connection_id in seen:
                measured = seen[record.connection_id]
                connection.status.CopyFrom(measured.status)
                connection.metrics.CopyFrom(measured.metrics)
            found.append(connection)
        return found, next_token(offset, size, len(records))

    async def flows(self, page: common_pb2.PageRequest, include_stopped: bool,
                    all_flows: list[FlowRecord], deadline: float
                    ) -> tuple[list[pipeline_pb2.Flow], str]:
        offset, size = page_bounds(page)
        records = [f for f in all_flows if include_stopped or not f.stopped]
        chosen = records[offset:offset + size]
        found = await asyncio.gather(*(self._flow(f, deadline) for f in chosen))
        return list(found), next_token(offset, size, len(records))

    async def _flow(self, record: FlowRecord, deadline: float) -> pipeline_pb2.Flow:
        if record.stopped:
            connections = [c for c in [await self.b.store.connection(i)
                                       for i in record.connection_ids] if c is not None]
            return merge(record, connections, {})
        sample = self.latest(record.flow_id)
        if sample is not None:
            return sample
        return await self.flow_broker.status(record.flow_id, deadline)
