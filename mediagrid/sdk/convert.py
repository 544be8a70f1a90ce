"""SDK objects as mediagrid.v1 messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mediagrid.sdk.entity import Entity, Link
from mediagrid.sdk.reporter import metric_value
from mediagrid.sdk.types import EntityKind, MediaType
from mediagrid.v1 import common_pb2, entity_pb2, pipeline_pb2

if TYPE_CHECKING:
    from mediagrid.sdk.flows import Flow


def _ts(out: object, seconds: float) -> None:
    out.FromNanoseconds(int(seconds * 1e9))  # type: ignore[attr-defined]


def entity_status(entity: Entity) -> common_pb2.EntityStatus:
    status = common_pb2.EntityStatus(
        state=int(entity.state), health=int(entity.health), error_message=entity.error_message,
        active_connections=sorted(entity.links),
    )
    for key, value in entity.metrics.items():
        status.metrics[key].CopyFrom(metric_value(value))
    _ts(status.created_at, entity.created_at)
    _ts(status.last_updated, entity.last_updated)
    return status


def entity_message(entity: Entity, module_id: str) -> entity_pb2.Entity:
    et = entity.entity_type
    media = entity.media_type
    common = {  # every kind names its media type (rule N-15)
        "id": entity.id, "name": entity.name, "type": et.type,
        "config": et.redact(entity.config), "status": entity_status(entity),
        "media_type": int(media),
    }
    caps = et.capabilities(media)
    if et.kind is EntityKind.SOURCE:
        return entity_pb2.Entity(source=entity_pb2.MediaSource(**common, provides=caps),
                                 module_id=module_id)
    if et.kind is EntityKind.SINK:
        return entity_pb2.Entity(sink=entity_pb2.MediaSink(**common, requires=caps),
                                 module_id=module_id)
    if et.kind is EntityKind.CONVERTER:
        return entity_pb2.Entity(
            converter=entity_pb2.Converter(**common, input=caps,
                                           output=et.output_capabilities(media)),
            module_id=module_id,
        )
    audio = caps if media is MediaType.AUDIO else None
    video = caps if media is MediaType.VIDEO else None
    return entity_pb2.Entity(
        protocol=entity_pb2.Protocol(**common, requires_audio=audio, requires_video=video),
        module_id=module_id,
    )


def connection_message(link: Link) -> pipeline_pb2.Connection:
    m = link.metrics
    conn = pipeline_pb2.Connection(
        id=link.id, source_entity_id=link.source_entity_id,
        target_entity_id=link.target_entity_id, media_type=int(link.media_type),
        transport_protocol=link.transport, quality=link.quality,
        status=pipeline_pb2.ConnectionStatus(
            state=link.state, health=int(link.health), error_message=link.error_message
        ),
        metrics=pipeline_pb2.ConnectionMetrics(
            bitrate_bps=int(m.bitrate_bps), fps=float(m.fps), frames=int(m.frames),
            latency_ms=int(m.latency_ms), dropped_frames=int(m.dropped_frames),
            restarts=int(m.restarts),
        ),
        source_module_id=link.source_module_id, target_module_id=link.target_module_id,
    )
    if link.endpoint is not None:
        conn.endpoint.transport = link.endpoint.transport
        conn.endpoint.url = link.endpoint.url
        if link.endpoint.format is not None:
            conn.endpoint.format.CopyFrom(link.endpoint.format)
    return conn


def flow_message(flow: Flow) -> pipeline_pb2.Flow:
    links = flow.links
    last = links[-1].metrics if links else None
    latencies = [k.metrics.latency_ms for k in links if k.metrics.latency_ms >= 0]
    msg = pipeline_pb2.Flow(
        id=flow.id, name=flow.name, connections=[connection_message(k) for k in links],
        status=pipeline_pb2.FlowStatus(
            state=flow.state, health=int(flow.health), error_message=flow.error_message,
            bandwidth_usage=sum(int(k.metrics.bitrate_bps) for k in links),
            latency_ms=sum(latencies) if latencies else -1,
        ),
        metrics=pipeline_pb2.FlowMetrics(
            fps=float(last.fps) if last else 0.0, frames=int(last.frames) if last else 0,
            dropped_frames=sum(int(k.metrics.dropped_frames) for k in links),
            restarts=sum(int(k.metrics.restarts) for k in links),
            bytes_written=sum(int(k.metrics.bytes_written) for k in links),
        ),
    )
    _ts(msg.created_at, flow.created_at)
    if flow.started_at:
        _ts(msg.started_at, flow.started_at)
    return msg
