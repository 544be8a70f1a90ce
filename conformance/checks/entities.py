"""Entities (rules N-1 to N-12): creation, idempotency, exact codes, limits, paging."""

from __future__ import annotations

import asyncio
import uuid

import grpc

from mediagrid.conformance import configs
from mediagrid.conformance.context import MEDIA, CheckContext, entity_body, entity_media
from mediagrid.conformance.registry import Checks, NotApplicable
from mediagrid.v1 import common_pb2, entity_pb2

CHECKS = Checks("entities")
C = grpc.StatusCode
VOLUME_ROUNDS = 120  # more than 100 calls: some faults only show after many
CONCURRENT = 6


def E(**kwargs: object) -> entity_pb2.CreateEntityRequest:
    return entity_pb2.CreateEntityRequest(**kwargs)  # type: ignore[arg-type]


@CHECKS.check("N-1", title="every entity carries exactly the media type asked for, fixed at "
              "creation")
async def one_media_type(ctx: CheckContext) -> None:
    for spec, config in ctx.creatable() or [ctx.any_creatable()]:
        for media in spec.media_types:
            entity = await ctx.create_entity(spec, config, media=media)
            ctx.require(entity_media(entity) == MEDIA[media], "N-1",
                        f"a {spec.type} entity carrying {media.upper()}",
                        common_pb2.MediaType.Name(entity_media(entity)))
            body = entity_body(entity)
            configured = await ctx.ok(ctx.entities.ConfigureEntity,
                                      entity_pb2.ConfigureEntityRequest(entity_id=body.id,
                                                                        config=config),
                                      "N-1", "ConfigureEntity with a valid config")
            ctx.require(entity_media(configured.entity) == MEDIA[media], "N-1",
                        "the media type unchanged by ConfigureEntity",
                        common_pb2.MediaType.Name(entity_media(configured.entity)))


@CHECKS.check("N-2", title="CreateEntity repeated with the same request_id returns the first "
              "entity, created=false, and creates nothing")
async def request_id_idempotent(ctx: CheckContext) -> None:
    spec, config = ctx.any_creatable()
    request_id = str(uuid.uuid4())
    first = await ctx.create_entity(spec, config, request_id=request_id, rule="N-2")
    first_id = entity_body(first).id
    request = E(entity_type=spec.type, config=config, media_type=MEDIA[spec.media_types[0]],
                request_id=request_id, name=entity_body(first).name)
    again = await ctx.ok(ctx.entities.CreateEntity, request, "N-2",
                         "a repeated request_id with the same arguments")
    ctx.require(entity_body(again.entity).id == first_id, "N-2",
                f"the first call's entity {first_id!r}", repr(entity_body(again.entity).id))
    ctx.require(not again.created, "N-2", "created=false for a repeated request_id",
                "created=true")
    named = [entity_body(e).id for e in await ctx.list_all("N-2")
             if entity_body(e).name == entity_body(first).name]
    ctx.require(named == [first_id], "N-2", f"one entity named {entity_body(first).name!r}",
                str(named))


@CHECKS.check("N-3", title="unknown entity type and bad config: INVALID_ARGUMENT naming the "
              "offered types / the key")
async def bad_type_and_config(ctx: CheckContext) -> None:
    offered = [spec.type for spec in ctx.manifest.entity_types]
    await ctx.expect_code(ctx.entities.CreateEntity, E(entity_type="conformance-no-such-type",
                                                        media_type=MEDIA["video"]),
                          C.INVALID_ARGUMENT, "N-3", "an entity type the module does not offer",
                          naming=tuple(offered))
    tried = 0
    for spec, valid in ctx.creatable():
        for bad in configs.invalid_configs(spec, valid):
            tried += 1
            await ctx.expect_code(
                ctx.entities.CreateEntity,
                E(entity_type=spec.type, config=bad.config, media_type=MEDIA[spec.media_types[0]],
                  name=ctx.tracker.name("bad")),
                C.INVALID_ARGUMENT, "N-3", f"a {spec.type} config with {bad.why}",
                naming=(bad.key,))
    if not tried:
        ctx.note("no entity type has a config schema to break: only the unknown type was tried")


@CHECKS.check("N-4", title="a media type the type cannot carry: FAILED_PRECONDITION; UNSPECIFIED "
              "for a type carrying both: INVALID_ARGUMENT")
async def media_type_codes(ctx: CheckContext) -> None:
    tried = 0
    for spec, config in ctx.creatable():
        if len(spec.media_types) == 1:
            other = "audio" if spec.media_types[0] == "video" else "video"
            tried += 1
            await ctx.expect_code(ctx.entities.CreateEntity,
                                  E(entity_type=spec.type, config=config, media_type=MEDIA[other]),
                                  C.FAILED_PRECONDITION, "N-4",
                                  f"{other.upper()} for type {spec.type!r}, which carries "
                                  f"{spec.media_types[0]} only")
        else:
            tried += 1
            await ctx.expect_code(ctx.entities.CreateEntity,
                                  E(entity_type=spec.type, config=config),
                                  C.INVALID_ARGUMENT, "N-4",
                                  f"media_type UNSPECIFIED for {spec.type!r}, which carries "
                                  f"{' and '.join(spec.media_types)}")
    if not tried:
        raise ctx.skip(configs.missing_config_reason(ctx.manifest.entity_types[0])
                       if ctx.manifest.entity_types else "the module offers no entity type")


@CHECKS.check("N-5", "N-12", title="ConfigureEntity / GetEntityStatus: unknown id NOT_FOUND, "
              "malformed id INVALID_ARGUMENT; a live entity is never DESTROYED")
async def unknown_and_malformed_ids(ctx: CheckContext) -> None:
    unknown = ctx.tracker.name("never")
    for rpc, name in ((ctx.entities.ConfigureEntity, "ConfigureEntity"),
                      (ctx.entities.GetEntityStatus, "GetEntityStatus")):
        request_type = (entity_pb2.ConfigureEntityRequest if name == "ConfigureEntity"
                        else entity_pb2.GetEntityStatusRequest)
        await ctx.expect_code(rpc, request_type(entity_id=unknown), C.NOT_FOUND, "N-5",
                              f"{name} of a well-formed id that is not a live entity")
        for bad in ("", "Upper-Case", "-leading-dash", "x" * 129, "white space"):
            await ctx.expect_code(rpc, request_type(entity_id=bad), C.INVALID_ARGUMENT, "N-5",
                                  f"{name} of the malformed id {bad[:20]!r}")
    # The same probes again after many calls: a module must not change its answers with time.
    for round_ in range(VOLUME_ROUNDS):
        other = ctx.tracker.name("never")
        await ctx.expect_code(ctx.entities.GetEntityStatus, entity_pb2.GetEntityStatusRequest(
            entity_id=other), C.NOT_FOUND, "N-5",
            f"GetEntityStatus of an unknown id (round {round_ + 1} of {VOLUME_ROUNDS})")
        if round_ % 10 == 0:
            ctx.transcript.calls = ctx.transcript.calls[-20:]  # keep the report readable
    found = ctx.creatable()
    if found:
        entity = await ctx.create_entity(*found[0])
        status = await ctx.ok(ctx.entities.GetEntityStatus, entity_pb2.GetEntityStatusRequest(
            entity_id=entity_body(entity).id), "N-12", "GetEntityStatus of a live entity")
        ctx.require(status.status.state != common_pb2.ENTITY_STATE_DESTROYED, "N-12",
                    "a live entity's state not DESTROYED", "ENTITY_STATE_DESTROYED")


@CHECKS.check("N-6", "N-12", title="DestroyEntity: destroyed=true then false; never seen "
              "NOT_FOUND; a destroyed entity is not listed and not found")
async def destroy_idempotent(ctx: CheckContext) -> None:
    spec, config = ctx.any_creatable()
    entity_id = entity_body(await ctx.create_entity(spec, config)).id
    request = entity_pb2.DestroyEntityRequest(entity_id=entity_id)
    first = await ctx.ok(ctx.entities.DestroyEntity, request, "N-6", "DestroyEntity")
    ctx.tracker.forget("entity", entity_id)
    ctx.require(first.destroyed, "N-6", "destroyed=true the first time", "destroyed=false")
    again = await ctx.ok(ctx.entities.DestroyEntity, request, "N-6",
                         "DestroyEntity of an id destroyed before (idempotent)")
    ctx.require(not again.destroyed, "N-6", "destroyed=false on a repeat", "destroyed=true")
    await ctx.expect_code(ctx.entities.DestroyEntity, entity_pb2.DestroyEntityRequest(
        entity_id=ctx.tracker.name("never")), C.NOT_FOUND, "N-6", "an id never seen")
    listed = [entity_body(e).id for e in await ctx.list_all("N-12")]
    ctx.require(entity_id not in listed, "N-12", f"{entity_id} not listed once destroyed",
                "it is listed")
    await ctx.expect_code(ctx.entities.GetEntityStatus, entity_pb2.GetEntityStatusRequest(
        entity_id=entity_id), C.NOT_FOUND, "N-5", "GetEntityStatus of a destroyed entity")


@CHECKS.check("N-7", title="a ConfigureEntity that fails leaves the previous configuration "
              "in force")
async def failed_configure_keeps_config(ctx: CheckContext) -> None:
    for spec, valid in ctx.creatable():
        bad = configs.invalid_configs(spec, valid)
        if not bad:
            continue
        entity_id = entity_body(await ctx.create_entity(spec, valid)).id
        before = await _config_of(ctx, entity_id)
        for item in bad:
            await ctx.expect_code(ctx.entities.ConfigureEntity, entity_pb2.ConfigureEntityRequest(
                entity_id=entity_id, config=item.config, replace=True), C.INVALID_ARGUMENT,
                "N-3", f"ConfigureEntity with {item.why}", naming=(item.key,))
            after = await _config_of(ctx, entity_id)
            ctx.require(after == before, "N-7", f"the config in force unchanged ({before})",
                        str(after))
        return
    raise ctx.skip("no entity type has a config schema that refuses something")


async def _config_of(ctx: CheckContext, entity_id: str) -> dict[str, str]:
    for entity in await ctx.list_all("N-8"):
        body = entity_body(entity)
        if body.id == entity_id:
            return dict(body.config)
    raise ctx.fail("N-8", f"live entity {entity_id} in ListEntities", "not listed")


@CHECKS.check("N-8", title="ListEntities: creation order, paging to an empty token, foreign "
              "token INVALID_ARGUMENT", exclusive=True)
async def list_in_creation_order(ctx: CheckContext) -> None:
    spec, config = ctx.any_creatable()
    made = [entity_body(await ctx.create_entity(spec, config)).id for _ in range(5)]
    seen: list[str] = []
    token, pages = "", 0
    while True:
        response = await ctx.ok(ctx.entities.ListEntities, entity_pb2.ListEntitiesRequest(
            page=common_pb2.PageRequest(page_size=2, page_token=token)), "N-8",
            "ListEntities page by page")
        ctx.require(len(response.entities) <= 2, "N-8", "at most page_size=2 entities a page",
                    str(len(response.entities)))
        seen.extend(entity_body(e).id for e in response.entities)
        token, pages = response.next_page_token, pages + 1
        if not token or pages > 1000:
            break
    ctx.require(not token, "N-8", "an empty next_page_token on the last page",
                "a token after 1000 pages")
    ctx.require(len(seen) == len(set(seen)), "N-8", "no entity twice across pages",
                f"repeats in {seen}")
    mine = [i for i in seen if i in made]
    ctx.require(mine == made, "N-8", f"the suite's entities in creation order {made}", str(mine))
    for bad in ("conformance-forged-token", "AAAA", "0"):
        await ctx.expect_code(ctx.entities.ListEntities, entity_pb2.ListEntitiesRequest(
            page=common_pb2.PageRequest(page_token=bad)), C.INVALID_ARGUMENT, "N-8",
            f"a page token this instance did not issue ({bad!r})")


@CHECKS.check("N-9", title="a requested entity_id is used as given; a live one is ALREADY_EXISTS; "
              "a malformed one INVALID_ARGUMENT")
async def requested_ids(ctx: CheckContext) -> None:
    spec, config = ctx.any_creatable()
    wanted = ctx.tracker.name("given")
    made = await ctx.create_entity(spec, config, entity_id=wanted, rule="N-9")
    ctx.require(entity_body(made).id == wanted, "N-9", f"entity id {wanted!r} as requested",
                repr(entity_body(made).id))
    media = MEDIA[spec.media_types[0]]
    await ctx.expect_code(ctx.entities.CreateEntity, E(entity_type=spec.type, config=config,
                                                        media_type=media, entity_id=wanted),
                          C.ALREADY_EXISTS, "N-9", "an entity_id naming a live entity")
    raced = ctx.tracker.name("raced")

    async def create_raced() -> grpc.StatusCode:
        code, _ = await ctx.code(ctx.entities.CreateEntity, E(
            entity_type=spec.type, config=config, media_type=media, entity_id=raced))
        return code
    codes = await asyncio.gather(*(create_raced() for _ in range(CONCURRENT)))
    if C.OK in codes:
        ctx.tracker.add("entity", raced, ctx.check.name)
    ctx.require(codes.count(C.OK) == 1 and codes.count(C.ALREADY_EXISTS) == CONCURRENT - 1,
                "N-9", f"one OK and {CONCURRENT - 1} ALREADY_EXISTS for {CONCURRENT} concurrent "
                f"CreateEntity of entity_id {raced!r}", ", ".join(c.name for c in codes))
    for bad in ("Capital", "-dash-first", "a" * 129, "dot.ted", "sp ace"):
        await ctx.expect_code(ctx.entities.CreateEntity, E(entity_type=spec.type, config=config,
                                                            media_type=media, entity_id=bad),
                              C.INVALID_ARGUMENT, "N-9", f"the malformed entity_id {bad[:20]!r}")


@CHECKS.check("N-10", title="limits: name 256, 64 config keys, key 128, value 4096 (also after "
              "a merge): INVALID_ARGUMENT naming the limit")
async def limits(ctx: CheckContext) -> None:
    spec, config = ctx.any_creatable()
    media = MEDIA[spec.media_types[0]]
    cases = [("name of 257 characters", E(entity_type=spec.type, config=config, media_type=media,
                                          name="n" * 257), "256"),
             ("65 config keys", E(entity_type=spec.type, media_type=media,
                                  config={f"k{i}": "v" for i in range(65)}), "64"),
             ("a config key of 129 characters", E(entity_type=spec.type, media_type=media,
                                                  config={"k" * 129: "v"}), "128")]
    key = next(iter(config), "conformance_key")
    cases.append(("a config value of 4097 characters",
                  E(entity_type=spec.type, media_type=media, config={**config, key: "v" * 4097}),
                  "4096"))
    for what, request, limit in cases:
        await ctx.expect_code(ctx.entities.CreateEntity, request, C.INVALID_ARGUMENT, "N-10",
                              what, naming=(limit,))
    open_types = [(s, c) for s, c in ctx.creatable() if configs.accepts_extra_keys(s)]
    if not open_types:
        ctx.note("no entity type accepts extra config keys: the merge limit was not tried")
        return
    spec, config = open_types[0]
    base = {**config, **{f"x{i}": "v" for i in range(64 - len(config))}}
    entity_id = entity_body(await ctx.create_entity(spec, base, rule="N-10")).id
    await ctx.expect_code(ctx.entities.ConfigureEntity, entity_pb2.ConfigureEntityRequest(
        entity_id=entity_id, config={"y1": "v"}), C.INVALID_ARGUMENT, "N-10",
        "a ConfigureEntity merge giving 65 keys", naming=("64",))


@CHECKS.check("N-11", title="read-back config redacts password/secret/token values as ***")
async def secrets_redacted(ctx: CheckContext) -> None:
    for spec, config in ctx.creatable():
        props = (spec.config or {}).get("properties", {})
        secret = next((k for k in props if any(w in k.lower()
                                               for w in ("password", "secret", "token"))), None)
        if secret is None and configs.accepts_extra_keys(spec):
            secret = "conformance_password"
        if secret is None:
            continue
        value = str(props.get(secret, {}).get("default", "hunter2-conformance"))
        entity = await ctx.create_entity(spec, {**config, secret: value}, rule="N-11")
        shown = dict(entity_body(entity).config).get(secret)
        ctx.require(shown in (None, "***"), "N-11", f"config[{secret!r}] read back as '***'",
                    repr(shown))
        return
    raise NotApplicable("no entity type takes a key containing password, secret or token, "
                        "so nothing is redacted")


@CHECKS.check("N-6", "N-7", "N-5", title="concurrent ConfigureEntity and DestroyEntity of one "
              "entity: each answer exact, one destroyed=true, then NOT_FOUND")
async def concurrent_configure_and_destroy(ctx: CheckContext) -> None:
    spec, config = ctx.any_creatable()
    entity_id = entity_body(await ctx.create_entity(spec, config)).id
    configure = entity_pb2.ConfigureEntityRequest(entity_id=entity_id, config=config)
    destroy = entity_pb2.DestroyEntityRequest(entity_id=entity_id)

    async def call(rpc, request) -> tuple[str, grpc.StatusCode, object]:  # type: ignore[no-untyped-def]
        try:
            return "", C.OK, await rpc(request, timeout=10.0)
        except grpc.aio.AioRpcError as exc:
            return "", exc.code(), exc.details()
    calls = [call(ctx.entities.ConfigureEntity, configure) for _ in range(CONCURRENT)]
    calls += [call(ctx.entities.DestroyEntity, destroy) for _ in range(2)]
    answers = await asyncio.gather(*calls)
    ctx.tracker.forget("entity", entity_id)
    for _, code, details in answers[:CONCURRENT]:
        ctx.require(code in (C.OK, C.NOT_FOUND), "N-5", "OK or NOT_FOUND for a ConfigureEntity "
                    "racing a DestroyEntity", f"{code.name} {details}")
    destroyed = [r.destroyed for _, code, r in answers[CONCURRENT:] if code == C.OK]
    shown = ", ".join(f"OK destroyed={str(r.destroyed).lower()}" if c == C.OK
                      else f"{c.name} ({r})" for _, c, r in answers[CONCURRENT:])
    ctx.require(len(destroyed) == 2 and destroyed.count(True) == 1, "N-6",
                "two OK DestroyEntity answers, exactly one destroyed=true", shown)
    await ctx.expect_code(ctx.entities.GetEntityStatus, entity_pb2.GetEntityStatusRequest(
        entity_id=entity_id), C.NOT_FOUND, "N-5", "GetEntityStatus after the destroy")
