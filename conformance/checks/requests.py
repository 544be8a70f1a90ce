"""The form of entity requests and answers (rules N-13, N-15 to N-20): states in answers, media
type fields, request ids, id checks in every call, id reuse, paging, redacted secrets."""

from __future__ import annotations

import uuid

import grpc

from mediagrid.conformance import codecs as codec_table
from mediagrid.conformance import configs
from mediagrid.conformance.checks.pipeline_support import SUITE_MODULE
from mediagrid.conformance.context import MEDIA, CheckContext, entity_body, media_name
from mediagrid.conformance.registry import Checks, NotApplicable
from mediagrid.v1 import common_pb2, entity_pb2, pipeline_pb2

CHECKS = Checks("requests")
C = grpc.StatusCode
BAD_IDS = ("", "Upper", "-dash", "x" * 129)


def capabilities_of(entity: entity_pb2.Entity) -> list[common_pb2.EntityCapabilities]:
    kind = entity.WhichOneof("entity")
    body = entity_body(entity)
    names = {"source": ("provides",), "sink": ("requires",), "converter": ("input", "output"),
             "protocol": ("requires_audio", "requires_video")}[kind]
    return [getattr(body, n) for n in names if body.HasField(n)]


@CHECKS.check("N-13", "N-15", title="CreateEntity answers CONFIGURED (never CREATED); every "
              "entity message carries its media_type, as its capabilities do, with only that "
              "media type's codecs")
async def answers_and_media_fields(ctx: CheckContext) -> None:
    for spec, config in ctx.creatable() or [ctx.any_creatable()]:
        for media in spec.media_types:
            entity = await ctx.create_entity(spec, config, media=media)
            body = entity_body(entity)
            ctx.require(body.status.state in (common_pb2.ENTITY_STATE_CONFIGURED,
                                              common_pb2.ENTITY_STATE_ERROR), "N-13",
                        "CreateEntity answering CONFIGURED (or ERROR)",
                        common_pb2.EntityState.Name(body.status.state))
            ctx.require(body.media_type == MEDIA[media], "N-15",
                        f"{entity.WhichOneof('entity')}.media_type {media.upper()}",
                        common_pb2.MediaType.Name(body.media_type))
            for caps in capabilities_of(entity):
                ctx.require(caps.media_type == MEDIA[media], "N-15",
                            f"capabilities of media type {media.upper()}",
                            common_pb2.MediaType.Name(caps.media_type))
                foreign = [c for c in caps.supported_codecs
                           if codec_table.MEDIA_OF.get(c, media) != media]
                ctx.require(not foreign, "N-15", f"only {media} codecs in supported_codecs",
                            ", ".join(foreign))
    if ctx.suite.events is not None:
        created = [a.report.status for a in ctx.recorder.attempts
                   if a.report.WhichOneof("report") == "status"
                   and a.report.status.entity_status.state == common_pb2.ENTITY_STATE_CREATED]
        ctx.require(not created, "N-13", "no StatusUpdate in state CREATED",
                    f"{created[0].entity_id} reported CREATED" if created else "")


@CHECKS.check("N-16", "N-2", title="request_id: a refused create binds nothing; a repeat with "
              "other arguments is ALREADY_EXISTS; after a destroy FAILED_PRECONDITION")
async def request_id_binding(ctx: CheckContext) -> None:
    spec, config = ctx.any_creatable()
    media = MEDIA[spec.media_types[0]]
    request_id = str(uuid.uuid4())
    await ctx.expect_code(ctx.entities.CreateEntity, entity_pb2.CreateEntityRequest(
        entity_type="conformance-no-such-type", media_type=media, request_id=request_id),
        C.INVALID_ARGUMENT, "N-3", "an unknown entity type (with a request_id)")
    first = await ctx.create_entity(spec, config, request_id=request_id, rule="N-16")
    entity_id = entity_body(first).id
    ctx.require(entity_body(first).id, "N-16", "the entity created after a refused call with "
                "the same request_id", "nothing")
    other = entity_pb2.CreateEntityRequest(entity_type=spec.type, config=config,
                                           media_type=media, request_id=request_id,
                                           name=ctx.tracker.name("other-name"))
    await ctx.expect_code(ctx.entities.CreateEntity, other, C.ALREADY_EXISTS, "N-16",
                          "a repeated request_id with another name")
    await ctx.expect_code(ctx.entities.CreateEntity, entity_pb2.CreateEntityRequest(
        entity_type=spec.type, config=config, media_type=media, request_id="r" * 129),
        C.INVALID_ARGUMENT, "N-10", "a request_id of 129 characters")
    await ctx.ok(ctx.entities.DestroyEntity, entity_pb2.DestroyEntityRequest(
        entity_id=entity_id), "N-6", "DestroyEntity")
    ctx.tracker.forget("entity", entity_id)
    same = entity_pb2.CreateEntityRequest(entity_type=spec.type, config=config, media_type=media,
                                          request_id=request_id, name=entity_body(first).name)
    await ctx.expect_code(ctx.entities.CreateEntity, same, C.FAILED_PRECONDITION, "N-16",
                          "a repeated request_id whose entity was destroyed since")


@CHECKS.check("N-17", title="an empty or malformed id is INVALID_ARGUMENT in every call that "
              "takes one")
async def ids_checked_everywhere(ctx: CheckContext) -> None:
    p = ctx.pipeline
    for bad in BAD_IDS:
        cases = [
            (ctx.entities.DestroyEntity, entity_pb2.DestroyEntityRequest(entity_id=bad),
             "DestroyEntity.entity_id"),
            (p.DisconnectEntities, pipeline_pb2.DisconnectEntitiesRequest(connection_id=bad),
             "DisconnectEntities.connection_id"),
            (p.StopFlow, pipeline_pb2.StopFlowRequest(flow_id=bad), "StopFlow.flow_id"),
            (p.StartFlow, pipeline_pb2.StartFlowRequest(flow_id=ctx.tracker.name("flow"),
                                                        connection_ids=[bad]),
             "StartFlow.connection_ids[0]"),
            (p.ConnectEntities, pipeline_pb2.ConnectEntitiesRequest(
                connection_id=ctx.tracker.name("conn"), source_entity_id=bad,
                target_entity_id="remote", media_type=MEDIA["video"],
                role=pipeline_pb2.CONNECTION_ROLE_SOURCE, target_module_id=SUITE_MODULE,
                endpoint=pipeline_pb2.MediaEndpoint(url="udp://127.0.0.1:9?pkt_size=1316")),
             "ConnectEntities.source_entity_id"),
            (p.ConnectEntities, pipeline_pb2.ConnectEntitiesRequest(
                connection_id=ctx.tracker.name("conn"), source_entity_id=bad,
                target_entity_id=ctx.tracker.name("t"), media_type=MEDIA["video"],
                role=pipeline_pb2.CONNECTION_ROLE_TARGET, source_module_id=SUITE_MODULE),
             "ConnectEntities.source_entity_id (the other module's id, role TARGET)"),
            (p.AdjustQuality, pipeline_pb2.AdjustQualityRequest(
                flow_id=ctx.tracker.name("flow"), connection_id=bad or "Bad"),
             "AdjustQuality.connection_id"),
        ]
        for rpc, request, what in cases:
            await ctx.expect_code(rpc, request, C.INVALID_ARGUMENT, "N-17",
                                  f"{what} = {bad[:12]!r}")


@CHECKS.check("N-18", title="entity and connection ids can be used again after removal; ids "
              "the module assigns are never reused; a stopped flow stays readable")
async def ids_reused(ctx: CheckContext) -> None:
    spec, config = ctx.any_creatable()
    given = ctx.tracker.name("again")
    for round_ in range(2):
        await ctx.create_entity(spec, config, entity_id=given, rule="N-18")
        gone = await ctx.ok(ctx.entities.DestroyEntity, entity_pb2.DestroyEntityRequest(
            entity_id=given), "N-18", f"DestroyEntity of {given} (life {round_ + 1})")
        ctx.tracker.forget("entity", given)
        ctx.require(gone.destroyed, "N-18", f"destroyed=true for the live {given}", "false")
    assigned = []
    for _ in range(2):
        made = entity_body(await ctx.create_entity(spec, config, rule="N-18")).id
        assigned.append(made)
        await ctx.ok(ctx.entities.DestroyEntity, entity_pb2.DestroyEntityRequest(
            entity_id=made), "N-6", "DestroyEntity")
        ctx.tracker.forget("entity", made)
    ctx.require(assigned[0] != assigned[1], "N-18", "a new id each time the module assigns one",
                f"{assigned[0]} twice")
    if not ctx.creatable("sink"):
        return
    from mediagrid.conformance.checks import pipeline_support as ps

    _, sink, media = await ps.make(ctx, "sink")
    connection_id = ctx.tracker.name("conn")
    for _ in range(2):
        await ps.connect_target(ctx, sink, media, rule="N-18", connection_id=connection_id)
        gone = await ctx.ok(ctx.pipeline.DisconnectEntities, pipeline_pb2.DisconnectEntitiesRequest(
            connection_id=connection_id), "N-18", "DisconnectEntities")
        ctx.tracker.forget("connection", connection_id)
        ctx.require(gone.disconnected, "N-18", "disconnected=true for the live connection",
                    "false")
    connection = await ps.connect_target(ctx, sink, media, rule="N-18")
    flow = await ps.start_flow(ctx, [connection.id], rule="N-18")
    await ctx.ok(ctx.pipeline.StopFlow, pipeline_pb2.StopFlowRequest(flow_id=flow.id), "P-8",
                 "StopFlow")
    ctx.tracker.forget("flow", flow.id)
    stopped = await ps.flow(ctx, flow.id, "N-18")
    ctx.require(ps.flow_state(stopped) == "STOPPED", "N-18", "a stopped flow read as STOPPED",
                ps.flow_state(stopped))


@CHECKS.check("N-19", "N-8", exclusive=True, title="ListEntities: page_size 0, >1000 and "
              "negative; full pages; a token bound to its entity_type filter")
async def paging_rules(ctx: CheckContext) -> None:
    spec, config = ctx.any_creatable()
    for _ in range(3):
        await ctx.create_entity(spec, config)
    page = common_pb2.PageRequest
    await ctx.expect_code(ctx.entities.ListEntities, entity_pb2.ListEntitiesRequest(
        page=page(page_size=-1)), C.INVALID_ARGUMENT, "N-19", "page_size -1")
    for size in (0, 5000):
        await ctx.ok(ctx.entities.ListEntities, entity_pb2.ListEntitiesRequest(
            page=page(page_size=size)), "N-19", f"page_size {size}")
    token, sizes = "", []
    while True:
        answer = await ctx.ok(ctx.entities.ListEntities, entity_pb2.ListEntitiesRequest(
            page=page(page_size=1, page_token=token), entity_type=spec.type), "N-19",
            f"ListEntities of type {spec.type} one by one")
        sizes.append(len(answer.entities))
        token = answer.next_page_token
        if not token or len(sizes) > 10_000:
            break
        if len(sizes) == 1:
            await ctx.expect_code(ctx.entities.ListEntities, entity_pb2.ListEntitiesRequest(
                page=page(page_size=1, page_token=token), entity_type=""), C.INVALID_ARGUMENT,
                "N-19", "a page token issued for another entity_type filter")
    ctx.require(all(s == 1 for s in sizes), "N-19", "full pages (page_size 1) until the last",
                str(sizes[:20]))


@CHECKS.check("N-20", "N-11", title="'***' for a secret key keeps the value in force; '***' "
              "with no value in force is INVALID_ARGUMENT")
async def redaction_round_trip(ctx: CheckContext) -> None:
    for spec, config in ctx.creatable():
        props = (spec.config or {}).get("properties", {})
        secret = next((k for k in props if any(w in k.lower() for w in
                                               ("password", "secret", "token"))), None)
        if secret is None and configs.accepts_extra_keys(spec):
            secret = "conformance_Token"
        if secret is None:
            continue
        media = MEDIA[spec.media_types[0]]
        await ctx.expect_code(ctx.entities.CreateEntity, entity_pb2.CreateEntityRequest(
            entity_type=spec.type, media_type=media, config={**config, secret: "***"}),
            C.INVALID_ARGUMENT, "N-20", f"CreateEntity with {secret} = '***'")
        entity = await ctx.create_entity(spec, {**config, secret: "s3cret-conformance"},
                                         rule="N-20")
        body = entity_body(entity)
        ctx.require(body.config.get(secret) == "***", "N-11",
                    f"config[{secret!r}] read back as '***' (any letter case)",
                    repr(body.config.get(secret)))
        for replace in (False, True):
            answer = await ctx.ok(ctx.entities.ConfigureEntity,
                                  entity_pb2.ConfigureEntityRequest(
                                      entity_id=body.id, config=dict(body.config),
                                      replace=replace),
                                  "N-20", f"writing back the config read (replace={replace})")
            ctx.require(entity_body(answer.entity).config.get(secret) == "***", "N-11",
                        f"config[{secret!r}] still redacted", "changed")
        return
    raise NotApplicable("no entity type takes a key containing password, secret or token, "
                        "so nothing is redacted")


__all__ = ["CHECKS", "media_name"]
