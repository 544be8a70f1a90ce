"""Connections and flows: exact codes, roles, endpoints, idempotency (rules P-1 to P-8)."""

from __future__ import annotations

import re

import grpc

from mediagrid.conformance.checks.pipeline_support import (
    SUITE_MODULE,
    connect_target,
    make,
    needs_source,
    needs_target,
    start_flow,
)
from mediagrid.conformance.context import MEDIA, CheckContext
from mediagrid.conformance.registry import PIPELINE, Checks
from mediagrid.v1 import common_pb2, pipeline_pb2

CHECKS = Checks("pipeline")
C = grpc.StatusCode
R = pipeline_pb2
ENDPOINT_FORMS = {  # contract §4.1: the URL the source sends to
    "mpegts-udp": re.compile(r"^udp://[^/:?]+:\d{1,5}\?pkt_size=1316(&.*)?$"),
    "mpegts-tcp": re.compile(r"^tcp://[^/:?]+:\d{1,5}$"),
    "srt": re.compile(r"^srt://[^/:?]+:\d{1,5}\?mode=caller&latency=120000&transtype=live$"),
}


def other(media: str) -> str:
    return "audio" if media == "video" else "video"


def connect(**kwargs: object) -> pipeline_pb2.ConnectEntitiesRequest:
    return R.ConnectEntitiesRequest(**kwargs)  # type: ignore[arg-type]


@CHECKS.check("P-1", title="ConnectEntities naming an entity the module does not hold: NOT_FOUND",
              profile=PIPELINE, needs=[needs_target])
async def unknown_entity(ctx: CheckContext) -> None:
    _, sink, media = await make(ctx, "sink")
    ghost = ctx.tracker.name("ghost")
    await ctx.expect_code(ctx.pipeline.ConnectEntities, connect(
        connection_id=ctx.tracker.name("conn"), source_entity_id="remote",
        target_entity_id=ghost, media_type=MEDIA[media], role=R.CONNECTION_ROLE_TARGET,
        source_module_id=SUITE_MODULE), C.NOT_FOUND, "P-1", "role TARGET naming an unknown target")
    await ctx.expect_code(ctx.pipeline.ConnectEntities, connect(
        connection_id=ctx.tracker.name("conn"), source_entity_id=ghost, target_entity_id=sink,
        media_type=MEDIA[media], role=R.CONNECTION_ROLE_LOCAL), C.NOT_FOUND, "P-1",
        "role LOCAL naming an unknown source")
    await ctx.expect_code(ctx.pipeline.ConnectEntities, connect(
        connection_id=ctx.tracker.name("conn"), source_entity_id=ghost, target_entity_id="remote",
        media_type=MEDIA[media], role=R.CONNECTION_ROLE_SOURCE, target_module_id=SUITE_MODULE,
        endpoint=R.MediaEndpoint(transport="mpegts-udp", url="udp://127.0.0.1:9?pkt_size=1316")),
        C.NOT_FOUND, "P-1", "role SOURCE naming an unknown source")


@CHECKS.check("P-2", title="the connection's media type must match the entity: "
              "FAILED_PRECONDITION; UNSPECIFIED: INVALID_ARGUMENT", profile=PIPELINE,
              needs=[needs_target])
async def media_type_must_match(ctx: CheckContext) -> None:
    _, sink, media = await make(ctx, "sink")
    for media_type, code, what in ((MEDIA[other(media)], C.FAILED_PRECONDITION,
                                    f"a {other(media)} connection to a {media} sink"),
                                   (common_pb2.MEDIA_TYPE_UNSPECIFIED, C.INVALID_ARGUMENT,
                                    "media_type UNSPECIFIED")):
        await ctx.expect_code(ctx.pipeline.ConnectEntities, connect(
            connection_id=ctx.tracker.name("conn"), source_entity_id="remote",
            target_entity_id=sink, media_type=media_type, role=R.CONNECTION_ROLE_TARGET,
            source_module_id=SUITE_MODULE), code, "P-2", what)


@CHECKS.check("P-3", title="a sink as source, a source as target, a codec the target cannot "
              "take: FAILED_PRECONDITION", profile=PIPELINE, needs=[needs_target])
async def capability_mismatch(ctx: CheckContext) -> None:
    spec, sink, media = await make(ctx, "sink")
    await ctx.expect_code(ctx.pipeline.ConnectEntities, connect(
        connection_id=ctx.tracker.name("conn"), source_entity_id=sink, target_entity_id="remote",
        media_type=MEDIA[media], role=R.CONNECTION_ROLE_SOURCE, target_module_id=SUITE_MODULE,
        endpoint=R.MediaEndpoint(transport="mpegts-udp", url="udp://127.0.0.1:9?pkt_size=1316")),
        C.FAILED_PRECONDITION, "P-3", f"sink {sink} used as a connection's source")
    if spec.codecs:
        quality = (common_pb2.QualityProfile(video_codec="conformance-codec") if media == "video"
                   else common_pb2.QualityProfile(audio_codec="conformance-codec"))
        await ctx.expect_code(ctx.pipeline.ConnectEntities, connect(
            connection_id=ctx.tracker.name("conn"), source_entity_id="remote",
            target_entity_id=sink, media_type=MEDIA[media], role=R.CONNECTION_ROLE_TARGET,
            source_module_id=SUITE_MODULE, quality=quality), C.FAILED_PRECONDITION, "P-3",
            f"a codec type {spec.type!r} does not accept ({', '.join(spec.codecs)})")
    if needs_source(ctx.manifest) is None and ctx.creatable("source"):
        _, source, source_media = await make(ctx, "source")
        await ctx.expect_code(ctx.pipeline.ConnectEntities, connect(
            connection_id=ctx.tracker.name("conn"), source_entity_id="remote",
            target_entity_id=source, media_type=MEDIA[source_media],
            role=R.CONNECTION_ROLE_TARGET, source_module_id=SUITE_MODULE),
            C.FAILED_PRECONDITION, "P-3", f"source {source} used as a connection's target")


@CHECKS.check("P-4", title="role TARGET returns the §4.1 endpoint; bad transport, missing "
              "endpoint, role UNSPECIFIED: the exact codes", profile=PIPELINE,
              needs=[needs_target])
async def roles_and_endpoints(ctx: CheckContext) -> None:
    spec, sink, media = await make(ctx, "sink")  # stays unconnected for the refusals below
    offered = [t for t in ENDPOINT_FORMS if not spec.protocols or t in spec.protocols]
    for transport in offered or ["mpegts-udp"]:
        _, fresh, _ = await make(ctx, "sink")  # one input per sink: a sink may take only one
        connection = await connect_target(ctx, fresh, media, transport=transport)
        url = connection.endpoint.url
        ctx.require(ENDPOINT_FORMS[transport].match(url), "P-4",
                    f"a {transport} endpoint URL in the form of contract §4.1", repr(url))
    await ctx.expect_code(ctx.pipeline.ConnectEntities, connect(
        connection_id=ctx.tracker.name("conn"), source_entity_id="remote", target_entity_id=sink,
        media_type=MEDIA[media], role=R.CONNECTION_ROLE_TARGET, source_module_id=SUITE_MODULE,
        transport_protocol="conformance-carrier-pigeon"), C.INVALID_ARGUMENT, "P-4",
        "a transport that is not one of §4.1's")
    missing = [t for t in ENDPOINT_FORMS if spec.protocols and t not in spec.protocols]
    if missing:
        await ctx.expect_code(ctx.pipeline.ConnectEntities, connect(
            connection_id=ctx.tracker.name("conn"), source_entity_id="remote",
            target_entity_id=sink, media_type=MEDIA[media], role=R.CONNECTION_ROLE_TARGET,
            source_module_id=SUITE_MODULE, transport_protocol=missing[0]),
            C.FAILED_PRECONDITION, "P-4", f"transport {missing[0]}, which type {spec.type!r} "
            f"does not offer ({', '.join(spec.protocols)})")
    await ctx.expect_code(ctx.pipeline.ConnectEntities, connect(
        connection_id=ctx.tracker.name("conn"), source_entity_id="remote", target_entity_id=sink,
        media_type=MEDIA[media]), C.INVALID_ARGUMENT, "P-4", "role UNSPECIFIED")
    if ctx.creatable("source"):
        _, source, source_media = await make(ctx, "source")
        await ctx.expect_code(ctx.pipeline.ConnectEntities, connect(
            connection_id=ctx.tracker.name("conn"), source_entity_id=source,
            target_entity_id="remote", media_type=MEDIA[source_media],
            role=R.CONNECTION_ROLE_SOURCE, target_module_id=SUITE_MODULE),
            C.INVALID_ARGUMENT, "P-4", "role SOURCE without an endpoint")


@CHECKS.check("P-6", "P-7", title="ConnectEntities idempotent per connection_id (other "
              "arguments: ALREADY_EXISTS); DisconnectEntities true, false, NOT_FOUND",
              profile=PIPELINE, needs=[needs_target])
async def connect_disconnect_idempotent(ctx: CheckContext) -> None:
    _, sink, media = await make(ctx, "sink")
    _, sink2, _ = await make(ctx, "sink")
    connection_id = ctx.tracker.name("conn")
    request = connect(connection_id=connection_id, source_entity_id="remote",
                      target_entity_id=sink, media_type=MEDIA[media],
                      role=R.CONNECTION_ROLE_TARGET, source_module_id=SUITE_MODULE)
    first = await ctx.ok(ctx.pipeline.ConnectEntities, request, "P-6", "ConnectEntities")
    ctx.tracker.add("connection", connection_id, ctx.check.name)
    again = await ctx.ok(ctx.pipeline.ConnectEntities, request, "P-6",
                         "the same ConnectEntities repeated")
    ctx.require(again.connection.id == connection_id and
                again.connection.endpoint.url == first.connection.endpoint.url, "P-6",
                f"the existing connection ({first.connection.endpoint.url})",
                f"{again.connection.id} at {again.connection.endpoint.url}")
    changed = pipeline_pb2.ConnectEntitiesRequest()
    changed.CopyFrom(request)
    changed.target_entity_id = sink2
    await ctx.expect_code(ctx.pipeline.ConnectEntities, changed, C.ALREADY_EXISTS, "P-6",
                          "the same connection_id with another target")
    remove = R.DisconnectEntitiesRequest(connection_id=connection_id)
    gone = await ctx.ok(ctx.pipeline.DisconnectEntities, remove, "P-7", "DisconnectEntities")
    ctx.tracker.forget("connection", connection_id)
    ctx.require(gone.disconnected, "P-7", "disconnected=true the first time", "false")
    gone = await ctx.ok(ctx.pipeline.DisconnectEntities, remove, "P-7",
                        "DisconnectEntities repeated (idempotent)")
    ctx.require(not gone.disconnected, "P-7", "disconnected=false on a repeat", "true")
    await ctx.expect_code(ctx.pipeline.DisconnectEntities, R.DisconnectEntitiesRequest(
        connection_id=ctx.tracker.name("never")), C.NOT_FOUND, "P-7", "a connection never seen")


@CHECKS.check("P-8", title="flows: unknown NOT_FOUND, StopFlow idempotent, stopped ids not "
              "reused, same start returns the flow, other connections ALREADY_EXISTS",
              profile=PIPELINE, needs=[needs_target])
async def flow_codes(ctx: CheckContext) -> None:
    _, sink, media = await make(ctx, "sink")
    conn = (await connect_target(ctx, sink, media, rule="P-8")).id
    _, sink2, _ = await make(ctx, "sink")
    conn2 = (await connect_target(ctx, sink2, media, rule="P-8")).id
    never = ctx.tracker.name("never")
    await ctx.expect_code(ctx.pipeline.StartFlow, R.StartFlowRequest(
        flow_id=ctx.tracker.name("flow"), connection_ids=[never]), C.NOT_FOUND, "P-8",
        "StartFlow naming a connection the module does not hold")
    for rpc, request, name in (
            (ctx.pipeline.StopFlow, R.StopFlowRequest(flow_id=never), "StopFlow"),
            (ctx.pipeline.GetFlowStatus, R.GetFlowStatusRequest(flow_id=never), "GetFlowStatus")):
        await ctx.expect_code(rpc, request, C.NOT_FOUND, "P-8", f"{name} of a flow never seen")
    started = await start_flow(ctx, [conn])
    same = await ctx.ok(ctx.pipeline.StartFlow, R.StartFlowRequest(
        flow_id=started.id, name=started.name, connection_ids=[conn]), "P-8",
        "StartFlow repeated on the running flow with the same connections")
    ctx.require(same.flow.id == started.id, "P-8", f"flow {started.id} returned", same.flow.id)
    await ctx.expect_code(ctx.pipeline.StartFlow, R.StartFlowRequest(
        flow_id=started.id, connection_ids=[conn2]), C.ALREADY_EXISTS, "P-8",
        "StartFlow on a running flow id with other connections")
    stop = R.StopFlowRequest(flow_id=started.id)
    first = await ctx.ok(ctx.pipeline.StopFlow, stop, "P-8", "StopFlow")
    ctx.tracker.forget("flow", started.id)
    ctx.require(first.stopped, "P-8", "stopped=true the first time", "false")
    again = await ctx.ok(ctx.pipeline.StopFlow, stop, "P-8", "StopFlow repeated (idempotent)")
    ctx.require(not again.stopped, "P-8", "stopped=false on a repeat", "true")
    await ctx.expect_code(ctx.pipeline.StartFlow, R.StartFlowRequest(
        flow_id=started.id, connection_ids=[conn]), C.FAILED_PRECONDITION, "P-8",
        "StartFlow on a stopped flow id")
