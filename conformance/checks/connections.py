"""Connection and flow arguments in detail (rules P-15 to P-20, N-14): codecs on the source
side, transports and endpoints per role, what "the same arguments" means, StartFlow lists,
AdjustQuality codes, entity states while flows run."""

from __future__ import annotations

import grpc

from mediagrid.conformance import codecs as codec_table
from mediagrid.conformance.checks.pipeline_support import (
    SUITE_MODULE,
    connect_target,
    make,
    needs_target,
    start_flow,
)
from mediagrid.conformance.context import MEDIA, CheckContext
from mediagrid.conformance.registry import PIPELINE, Checks
from mediagrid.v1 import common_pb2, entity_pb2, pipeline_pb2

CHECKS = Checks("connections")
C = grpc.StatusCode
R = pipeline_pb2


def quality(media: str, codec: str) -> common_pb2.QualityProfile:
    return (common_pb2.QualityProfile(video_codec=codec) if media == "video"
            else common_pb2.QualityProfile(audio_codec=codec))


def source_request(ctx: CheckContext, source: str, media: str, **kwargs: object
                   ) -> pipeline_pb2.ConnectEntitiesRequest:
    fields: dict[str, object] = dict(
        connection_id=ctx.tracker.name("conn"), source_entity_id=source,
        target_entity_id="remote", media_type=MEDIA[media], role=R.CONNECTION_ROLE_SOURCE,
        target_module_id=SUITE_MODULE,
        endpoint=R.MediaEndpoint(transport="mpegts-udp", url="udp://127.0.0.1:9?pkt_size=1316"))
    fields.update(kwargs)
    return R.ConnectEntitiesRequest(**fields)  # type: ignore[arg-type]


def needs_source(manifest) -> str | None:  # type: ignore[no-untyped-def]
    if not any(s.kind == "source" for s in manifest.entity_types):
        return "the module offers no source entity type"
    return None


@CHECKS.check("P-15", "P-16", title="role SOURCE: a codec the source does not produce or "
              "MPEG-TS does not carry is FAILED_PRECONDITION; the endpoint's transport, scheme, "
              "host and port are checked", profile=PIPELINE, needs=[needs_source])
async def source_side_arguments(ctx: CheckContext) -> None:
    spec, source, media = await make(ctx, "source")
    produced = codec_table.of_media(spec.codecs, media)
    foreign = next((c for c in codec_table.CARRIED[media] if c not in produced), None)
    if produced and foreign:
        await ctx.expect_code(ctx.pipeline.ConnectEntities, source_request(
            ctx, source, media, quality=quality(media, foreign)), C.FAILED_PRECONDITION, "P-15",
            f"codec {foreign}, which type {spec.type!r} does not produce ({', '.join(produced)})")
    uncarried = codec_table.NOT_CARRIED[media][0]
    await ctx.expect_code(ctx.pipeline.ConnectEntities, source_request(
        ctx, source, media, quality=quality(media, uncarried)), C.FAILED_PRECONDITION, "P-15",
        f"codec {uncarried}, which MPEG-TS does not carry, over mpegts-udp")
    bad_endpoints = [
        (R.MediaEndpoint(transport="conformance-pigeon", url="udp://127.0.0.1:9"),
         C.INVALID_ARGUMENT, "a transport that is not one of §4.1's"),
        (R.MediaEndpoint(transport="mpegts-udp", url="tcp://127.0.0.1:9"),
         C.INVALID_ARGUMENT, "a tcp:// URL for transport mpegts-udp"),
        (R.MediaEndpoint(transport="mpegts-udp", url="udp://127.0.0.1"),
         C.INVALID_ARGUMENT, "a URL without a port"),
        (R.MediaEndpoint(transport="mpegts-udp", url="udp://127.0.0.1:70000"),
         C.INVALID_ARGUMENT, "a URL with port 70000"),
        (R.MediaEndpoint(transport="", url="udp://:9"), C.INVALID_ARGUMENT,
         "a URL without a host"),
    ]
    for transport in codec_table.TRANSPORTS:
        if spec.protocols and transport not in spec.protocols:
            scheme = {"mpegts-udp": "udp", "mpegts-tcp": "tcp", "srt": "srt"}[transport]
            bad_endpoints.append((R.MediaEndpoint(transport=transport,
                                                  url=f"{scheme}://127.0.0.1:9"),
                                  C.FAILED_PRECONDITION, f"transport {transport}, which type "
                                  f"{spec.type!r} does not offer"))
    for endpoint, code, what in bad_endpoints:
        await ctx.expect_code(ctx.pipeline.ConnectEntities, source_request(
            ctx, source, media, endpoint=endpoint), code, "P-16", f"role SOURCE with {what}")


@CHECKS.check("P-16", "P-17", title="role LOCAL reports transport 'local' and no endpoint; "
              "role TARGET advertises the bind host, format mpegts and the codec asked",
              profile=PIPELINE, needs=[needs_target])
async def endpoint_details(ctx: CheckContext) -> None:
    spec, sink, media = await make(ctx, "sink")
    accepted = codec_table.of_media(spec.codecs, media) or list(codec_table.CARRIED[media][:1])
    connection_id = ctx.tracker.name("conn")
    answer = await ctx.ok(ctx.pipeline.ConnectEntities, R.ConnectEntitiesRequest(
        connection_id=connection_id, source_entity_id="remote", target_entity_id=sink,
        media_type=MEDIA[media], role=R.CONNECTION_ROLE_TARGET, source_module_id=SUITE_MODULE,
        quality=quality(media, accepted[0])), "P-17", "ConnectEntities role TARGET")
    ctx.tracker.add("connection", connection_id, ctx.check.name)
    endpoint = answer.connection.endpoint
    host = ctx.suite.target.address.rpartition(":")[0]
    ctx.require(f"//{host}:" in endpoint.url, "P-17", f"the endpoint host {host} (the bind host)",
                endpoint.url)
    ctx.require(endpoint.transport == "mpegts-udp", "P-17", "endpoint.transport mpegts-udp",
                repr(endpoint.transport))
    codec = endpoint.format.video_codec if media == "video" else endpoint.format.audio_codec
    ctx.require(endpoint.format.container == "mpegts" and codec == accepted[0], "P-17",
                f"endpoint.format container mpegts, codec {accepted[0]}",
                f"container {endpoint.format.container!r}, codec {codec!r}")
    sources = [s for s, _ in ctx.creatable("source") if set(s.media_types) & {media}]
    if not sources:
        return
    _, source, _ = await make(ctx, "source")
    _, local_sink, _ = await make(ctx, "sink")  # a sink may take only one input
    local_id = ctx.tracker.name("conn")
    local = await ctx.ok(ctx.pipeline.ConnectEntities, R.ConnectEntitiesRequest(
        connection_id=local_id, source_entity_id=source, target_entity_id=local_sink,
        media_type=MEDIA[media], role=R.CONNECTION_ROLE_LOCAL, transport_protocol="srt",
        endpoint=R.MediaEndpoint(transport="srt", url="srt://127.0.0.1:9")), "P-16",
        "ConnectEntities role LOCAL (transport and endpoint given, to be ignored)")
    ctx.tracker.add("connection", local_id, ctx.check.name)
    ctx.require(local.connection.transport_protocol == "local" and
                not local.connection.HasField("endpoint"), "P-16",
                "transport 'local' and no endpoint on a LOCAL connection",
                f"transport {local.connection.transport_protocol!r}, endpoint "
                f"{local.connection.endpoint.url!r}")


@CHECKS.check("P-18", "P-6", title="'the same arguments' ignore module ids, endpoint.format and "
              "an empty transport meaning mpegts-udp; another quality is ALREADY_EXISTS",
              profile=PIPELINE, needs=[needs_target])
async def same_arguments(ctx: CheckContext) -> None:
    _, sink, media = await make(ctx, "sink")
    connection_id = ctx.tracker.name("conn")
    base = R.ConnectEntitiesRequest(
        connection_id=connection_id, source_entity_id="remote", target_entity_id=sink,
        media_type=MEDIA[media], role=R.CONNECTION_ROLE_TARGET, source_module_id=SUITE_MODULE)
    await ctx.ok(ctx.pipeline.ConnectEntities, base, "P-18", "ConnectEntities")
    ctx.tracker.add("connection", connection_id, ctx.check.name)
    same = R.ConnectEntitiesRequest()
    same.CopyFrom(base)
    same.transport_protocol = "mpegts-udp"
    same.source_module_id = "conformance-other-module"
    same.endpoint.format.container = "mpegts"
    await ctx.ok(ctx.pipeline.ConnectEntities, same, "P-18",
                 "the same connection with transport 'mpegts-udp' for '', other module ids "
                 "and an endpoint (ignored for TARGET)")
    other = R.ConnectEntitiesRequest()
    other.CopyFrom(base)
    other.quality.bitrate = 123_000
    await ctx.expect_code(ctx.pipeline.ConnectEntities, other, C.ALREADY_EXISTS, "P-18",
                          "the same connection_id with another quality")


@CHECKS.check("P-19", "P-20", "N-14", title="StartFlow lists, AdjustQuality codes, and entity "
              "states while a flow runs", profile=PIPELINE, needs=[needs_target])
async def flow_arguments(ctx: CheckContext) -> None:
    _, sink, media = await make(ctx, "sink")
    _, other_sink, _ = await make(ctx, "sink")  # a sink may take only one input
    first = (await connect_target(ctx, sink, media, rule="P-19")).id
    second = (await connect_target(ctx, other_sink, media, rule="P-19")).id
    for ids, what in (([], "no connection_ids"), ([first, first], "a connection named twice")):
        await ctx.expect_code(ctx.pipeline.StartFlow, R.StartFlowRequest(
            flow_id=ctx.tracker.name("flow"), connection_ids=ids), C.INVALID_ARGUMENT, "P-19",
            f"StartFlow with {what}")
    flow = await start_flow(ctx, [first, second], rule="P-19")
    await ctx.expect_code(ctx.pipeline.StartFlow, R.StartFlowRequest(
        flow_id=flow.id, connection_ids=[second, first]), C.ALREADY_EXISTS, "P-19",
        "the running flow's connections in another order")
    await ctx.expect_code(ctx.pipeline.StartFlow, R.StartFlowRequest(
        flow_id=ctx.tracker.name("flow"), connection_ids=[first]), C.FAILED_PRECONDITION,
        "P-19", f"a connection that runs in flow {flow.id}", naming=(flow.id,))
    status = await ctx.ok(ctx.entities.GetEntityStatus, entity_pb2.GetEntityStatusRequest(
        entity_id=sink), "N-14", "GetEntityStatus while a flow runs")
    ctx.require(status.status.state == common_pb2.ENTITY_STATE_ACTIVE, "N-14",
                "ACTIVE while a running flow uses the entity",
                common_pb2.EntityState.Name(status.status.state))
    adjust = pipeline_pb2.AdjustQualityRequest
    await ctx.expect_code(ctx.pipeline.AdjustQuality, adjust(
        flow_id=ctx.tracker.name("never")), C.NOT_FOUND, "P-20", "an unknown flow")
    await ctx.expect_code(ctx.pipeline.AdjustQuality, adjust(
        flow_id=flow.id, connection_id=ctx.tracker.name("never")), C.NOT_FOUND, "P-20",
        "a connection that is not the flow's")
    recorded = await ctx.ok(ctx.pipeline.AdjustQuality, adjust(
        flow_id=flow.id, connection_id=first,
        quality=common_pb2.QualityProfile(bitrate=200_000)), "P-20",
        "AdjustQuality on a module holding only the target side (records it, answers OK)")
    ctx.require(all(c.quality.bitrate == 200_000 for c in recorded.connections), "P-20",
                "the quality recorded in the answer", str([c.quality for c in
                                                          recorded.connections]))
    await ctx.ok(ctx.pipeline.StopFlow, R.StopFlowRequest(flow_id=flow.id), "P-8", "StopFlow")
    ctx.tracker.forget("flow", flow.id)
    await ctx.expect_code(ctx.pipeline.AdjustQuality, adjust(flow_id=flow.id),
                          C.FAILED_PRECONDITION, "P-20", "a stopped flow")
    status = await ctx.ok(ctx.entities.GetEntityStatus, entity_pb2.GetEntityStatusRequest(
        entity_id=sink), "N-14", "GetEntityStatus after the flow stopped")
    ctx.require(status.status.state == common_pb2.ENTITY_STATE_CONFIGURED, "N-14",
                "CONFIGURED once no running flow uses the entity",
                common_pb2.EntityState.Name(status.status.state))
