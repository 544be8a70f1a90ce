"""Helpers of the pipeline checks: the suite's side of connections and flows."""

from __future__ import annotations

import asyncio
import time

from mediagrid.conformance.context import MEDIA, CheckContext, entity_body
from mediagrid.conformance.media import pick_codec
from mediagrid.manifest.model import EntityTypeSpec
from mediagrid.v1 import common_pb2, pipeline_pb2

SUITE_MODULE = "conformance-suite"
R = pipeline_pb2
FLOW_STATE = pipeline_pb2.FlowState


def flow_state(flow: pipeline_pb2.Flow) -> str:
    return FLOW_STATE.Name(flow.status.state).removeprefix("FLOW_STATE_")


def target_kinds() -> tuple[str, ...]:
    return ("sink", "converter", "protocol")


def needs_target(manifest) -> str | None:  # type: ignore[no-untyped-def]
    if not any(s.kind == "sink" for s in manifest.entity_types):
        return "the module offers no sink entity type (the suite sends media to a sink)"
    return None


def needs_source(manifest) -> str | None:  # type: ignore[no-untyped-def]
    if not any(s.kind == "source" for s in manifest.entity_types):
        return "the module offers no source entity type (the suite receives from a source)"
    return None


async def make(ctx: CheckContext, kind: str) -> tuple[EntityTypeSpec, str, str]:
    """Creates an entity of `kind`; returns its type, id and media (video preferred)."""
    spec, config = ctx.any_creatable(kind)
    media = "video" if "video" in spec.media_types else spec.media_types[0]
    entity = await ctx.create_entity(spec, config, media=media)
    return spec, entity_body(entity).id, media


def codec_for(ctx: CheckContext, spec: EntityTypeSpec, media: str) -> str:
    codec = pick_codec(media, spec.codecs)
    if codec is None:
        raise ctx.skip(f"the suite cannot send any codec type {spec.type!r} accepts "
                       f"({', '.join(spec.codecs)})")
    return codec


async def connect_target(ctx: CheckContext, target_id: str, media: str, *, rule: str = "P-4",
                         connection_id: str = "", transport: str = "") -> pipeline_pb2.Connection:
    connection_id = connection_id or ctx.tracker.name("conn")
    request = R.ConnectEntitiesRequest(
        connection_id=connection_id, source_entity_id=ctx.tracker.name("remote-src"),
        target_entity_id=target_id, media_type=MEDIA[media], role=R.CONNECTION_ROLE_TARGET,
        transport_protocol=transport, source_module_id=SUITE_MODULE)
    response = await ctx.ok(ctx.pipeline.ConnectEntities, request, rule,
                            f"ConnectEntities role TARGET for {target_id}")
    ctx.tracker.add("connection", connection_id, ctx.check.name)
    return response.connection


async def connect_source(ctx: CheckContext, source_id: str, media: str, url: str, *,
                         rule: str = "P-4", connection_id: str = "") -> pipeline_pb2.Connection:
    connection_id = connection_id or ctx.tracker.name("conn")
    request = R.ConnectEntitiesRequest(
        connection_id=connection_id, source_entity_id=source_id,
        target_entity_id=ctx.tracker.name("remote-sink"), media_type=MEDIA[media],
        role=R.CONNECTION_ROLE_SOURCE, target_module_id=SUITE_MODULE,
        endpoint=R.MediaEndpoint(transport="mpegts-udp", url=url))
    response = await ctx.ok(ctx.pipeline.ConnectEntities, request, rule,
                            f"ConnectEntities role SOURCE for {source_id} sending to {url}")
    ctx.tracker.add("connection", connection_id, ctx.check.name)
    return response.connection


async def start_flow(ctx: CheckContext, connection_ids: list[str], *, rule: str = "P-8",
                     flow_id: str = "") -> pipeline_pb2.Flow:
    flow_id = flow_id or ctx.tracker.name("flow")
    response = await ctx.ok(ctx.pipeline.StartFlow, R.StartFlowRequest(
        flow_id=flow_id, name=flow_id, connection_ids=connection_ids), rule, "StartFlow")
    ctx.tracker.add("flow", flow_id, ctx.check.name)
    ctx.suite.flows[flow_id] = list(connection_ids)
    return response.flow


async def flow(ctx: CheckContext, flow_id: str, rule: str = "P-8") -> pipeline_pb2.Flow:
    response = await ctx.ok(ctx.pipeline.GetFlowStatus, R.GetFlowStatusRequest(flow_id=flow_id),
                            rule, f"GetFlowStatus of running flow {flow_id}")
    return response.flow


async def wait_state(ctx: CheckContext, flow_id: str, state: str, within: float,
                     rule: str, why: str) -> pipeline_pb2.Flow:
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = await flow(ctx, flow_id, rule)
        if flow_state(last) == state:
            return last
        await asyncio.sleep(0.25)
    got = "no answer" if last is None else (
        f"{flow_state(last)} after {within:g} s ({last.status.error_message or 'no message'})")
    raise ctx.fail(rule, f"flow {state} within {within:g} s {why}", got)


def media_enum(media: str) -> int:
    return MEDIA[media]


__all__ = ["SUITE_MODULE", "codec_for", "common_pb2", "connect_source", "connect_target",
           "flow", "flow_state", "make", "media_enum", "needs_source", "needs_target",
           "start_flow", "target_kinds", "wait_state"]
