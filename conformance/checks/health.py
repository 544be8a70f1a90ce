"""Health and the served surface (rules H-1, H-4, H-5, H-6, H-7, H-12) on the running module."""

from __future__ import annotations

import asyncio
import time

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from mediagrid.conformance.context import MEDIA, CheckContext, entity_body
from mediagrid.conformance.registry import Checks
from mediagrid.v1 import common_pb2, entity_pb2, module_pb2

CHECKS = Checks("health")
MODULE_SERVICE = "mediagrid.v1.ModuleService"
MODULE_SERVICES = (MODULE_SERVICE, "mediagrid.v1.EntityService", "mediagrid.v1.PipelineService")
CONFIG_SERVICE = "mediagrid.v1.ConfigurableModuleService"
HEALTH_SERVICE = "grpc.health.v1.Health"
REFLECTION = ("grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection")
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def state_name(state: int) -> str:
    return module_pb2.ModuleState.Name(state).removeprefix("MODULE_STATE_")


def serving_name(status: int) -> str:
    return health_pb2.HealthCheckResponse.ServingStatus.Name(status)


async def health_check(ctx: CheckContext, rule: str = "H-5") -> module_pb2.HealthCheckResponse:
    """HealthCheck within the health timeout. One answer past the deadline is asked again
    (noted): one late answer may be the machine, and the orchestrator acts only on several in
    a row (H-13); two in a row fail `rule`."""
    limit = ctx.manifest.supervision.health_timeout
    what = f"HealthCheck within the health timeout ({limit:g} s)"
    try:
        return await ctx.module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=limit)
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise ctx.fail(rule, f"OK for {what}", f"{exc.code().name}: {exc.details()}") from None
        ctx.note(f"one HealthCheck answered after the {limit:g} s timeout; asked again")
    return await ctx.ok(ctx.module.HealthCheck, module_pb2.HealthCheckRequest(), rule, what,
                        deadline=limit)


def expected_services(ctx: CheckContext) -> set[str]:
    names = {*MODULE_SERVICES, HEALTH_SERVICE}
    if ctx.manifest.configurable:
        names.add(CONFIG_SERVICE)
    return names


def _reflect(address: str, wanted: set[str]) -> tuple[list[str], dict[str, str]]:
    """Lists services over reflection and resolves each one's descriptors, dependencies
    included (what `grpcurl describe` does). Returns the list and the failures."""
    with grpc.insecure_channel(address) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        listed = list(database.get_services())
        pool = descriptor_pool.DescriptorPool(database)
        failures = {}
        for name in sorted(wanted | set(listed)):
            try:
                service = pool.FindServiceByName(name)
                for method in service.methods:
                    _ = (method.input_type.full_name, method.output_type.full_name)
            except Exception as exc:
                failures[name] = f"{type(exc).__name__}: {exc}"
        return listed, failures


@CHECKS.check("H-4", "H-1", title="reflection lists every service on the one port; descriptors "
              "resolve (grpcurl list / describe)")
async def reflection_lists_every_service(ctx: CheckContext) -> None:
    wanted = expected_services(ctx)
    started = time.monotonic()
    try:
        listed, failures = await asyncio.to_thread(_reflect, ctx.suite.target.address, wanted)
    except grpc.RpcError as exc:
        ctx.transcript.add("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                           "list_services", exc.code().name, exc.details() or "", None, started)
        raise ctx.fail("H-4", "server reflection (grpc.reflection.v1alpha) to answer",
                       f"{exc.code().name}: {exc.details()}") from None
    ctx.transcript.add("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                       "list_services", "OK", "", ", ".join(listed), started)
    missing = sorted(wanted - set(listed))
    ctx.require(not missing, "H-4", f"reflection to list {', '.join(sorted(wanted))}",
                f"missing {', '.join(missing)}; listed {', '.join(listed)}")
    ctx.require(any(r in listed for r in REFLECTION), "H-4", "reflection to list itself",
                f"listed {', '.join(listed)}")
    bad = {k: v for k, v in failures.items() if k in wanted}
    ctx.require(not bad, "H-4", "every service's descriptors to resolve over reflection",
                "; ".join(f"{k}: {v}" for k, v in bad.items()))
    # H-1: the services are served on this one port, not just listed.
    await health_check(ctx, "H-1")
    await ctx.ok(ctx.entities.ListEntities, entity_pb2.ListEntitiesRequest(), "H-1",
                 "ListEntities on the module's GRPC_PORT")
    await ctx.ok(ctx.health.Check, health_pb2.HealthCheckRequest(service=""), "H-1",
                 "grpc.health.v1.Health/Check on the module's GRPC_PORT")


@CHECKS.check("H-5", title="HealthCheck answers OK within the health timeout while entity "
              "work is busy", exclusive=True)
async def health_answers_while_busy(ctx: CheckContext) -> None:
    spec, config = ctx.any_creatable()
    timeout = ctx.manifest.supervision.health_timeout
    stop = asyncio.Event()

    async def churn(worker: int) -> None:
        while not stop.is_set():
            entity_id = ctx.tracker.name(f"busy{worker}")
            request = entity_pb2.CreateEntityRequest(
                entity_type=spec.type, config=config, media_type=MEDIA[spec.media_types[0]],
                entity_id=entity_id)
            code, _ = await ctx.code(ctx.entities.CreateEntity, request)
            if code == grpc.StatusCode.OK:
                ctx.tracker.add("entity", entity_id, ctx.check.name)
                await ctx.code(ctx.entities.ConfigureEntity, entity_pb2.ConfigureEntityRequest(
                    entity_id=entity_id, config=config))
                await ctx.code(ctx.entities.DestroyEntity,
                               entity_pb2.DestroyEntityRequest(entity_id=entity_id))
                ctx.tracker.forget("entity", entity_id)

    async with asyncio.TaskGroup() as group:
        workers = [group.create_task(churn(i)) for i in range(6)]
        try:
            await asyncio.sleep(0.2)  # let the entity work pile up
            late = 0  # one slow answer may be the machine; two in a row are the module
            for _ in range(15):
                started = time.monotonic()
                try:
                    response = await ctx.module.HealthCheck(module_pb2.HealthCheckRequest(),
                                                            timeout=timeout)
                    late = 0
                except grpc.aio.AioRpcError as exc:
                    late += 1
                    if late < 2 and exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                        continue
                    raise ctx.fail("H-5", f"HealthCheck OK within {timeout:g} s while "
                                   "CreateEntity/ConfigureEntity/DestroyEntity are in flight",
                                   f"{exc.code().name} after "
                                   f"{(time.monotonic() - started) * 1000:.0f} ms, twice in a "
                                   "row" if late > 1 else f"{exc.code().name}") from None
                ctx.require(response.status.state != 0, "H-5", "a state in the answer",
                            "MODULE_STATE_UNSPECIFIED")
                await asyncio.sleep(0.05)
        finally:
            stop.set()
        del workers


@CHECKS.check("H-6", title="instance_id is non-empty and stable within the process")
async def instance_id_stable(ctx: CheckContext) -> None:
    first = await health_check(ctx, "H-6")
    ctx.require(first.status.instance_id, "H-6", "a non-empty ModuleStatus.instance_id", "''")
    spec_and_config = ctx.creatable()
    if spec_and_config:
        await ctx.create_entity(*spec_and_config[0])
    second = await health_check(ctx, "H-6")
    ctx.require(first.status.instance_id == second.status.instance_id, "H-6",
                "the same instance_id for the life of the process",
                f"{first.status.instance_id!r} then {second.status.instance_id!r}")
    if ctx.suite.target.instance_id:
        ctx.require(second.status.instance_id == ctx.suite.target.instance_id, "H-6",
                    f"the instance_id seen at start-up ({ctx.suite.target.instance_id!r})",
                    repr(second.status.instance_id))


@CHECKS.check("H-7", title="grpc.health.v1 Check and Watch agree with HealthCheck "
              "(SERVING exactly while READY)")
async def standard_health_agrees(ctx: CheckContext) -> None:
    for service in ("", MODULE_SERVICE):
        before = await health_check(ctx, "H-7")
        try:
            answer = await ctx.health.Check(health_pb2.HealthCheckRequest(service=service),
                                            timeout=2.0)
        except grpc.aio.AioRpcError as exc:
            raise ctx.fail("H-7", f"grpc.health.v1 Check({service!r}) to answer",
                           f"{exc.code().name}: {exc.details()}") from None
        after = await health_check(ctx, "H-7")
        if before.status.state != after.status.state:
            continue  # the state changed in between: no verdict from this sample
        want = SERVING if after.status.state == module_pb2.MODULE_STATE_READY else NOT_SERVING
        ctx.require(answer.status == want, "H-7",
                    f"Check({service!r}) {serving_name(want)} while HealthCheck says "
                    f"{state_name(after.status.state)}", serving_name(answer.status))
        watch = ctx.health.Watch(health_pb2.HealthCheckRequest(service=service), timeout=3.0)
        try:
            first = await anext(aiter(watch))
        except grpc.aio.AioRpcError as exc:
            raise ctx.fail("H-7", f"Watch({service!r}) to send the current status",
                           f"{exc.code().name}: {exc.details()}") from None
        except StopAsyncIteration:
            raise ctx.fail("H-7", f"Watch({service!r}) to send the current status",
                           "the stream ended empty") from None
        finally:
            watch.cancel()
        now = await health_check(ctx, "H-7")
        want = SERVING if now.status.state == module_pb2.MODULE_STATE_READY else NOT_SERVING
        ctx.require(first.status == want, "H-7",
                    f"Watch({service!r}) first message {serving_name(want)} while HealthCheck "
                    f"says {state_name(now.status.state)}", serving_name(first.status))


@CHECKS.check("H-12", title="HealthCheck.entity_types only lists types module.yaml declares, "
              "with their kind and media types")
async def entity_types_declared(ctx: CheckContext) -> None:
    response = await health_check(ctx, "H-12")
    declared = {spec.type: spec for spec in ctx.manifest.entity_types}
    for info in response.entity_types:
        spec = declared.get(info.type)
        ctx.require(spec is not None, "H-12", f"only declared types ({', '.join(declared)})",
                    f"undeclared type {info.type!r}")
        assert spec is not None
        kind = common_pb2.EntityKind.Name(info.kind).removeprefix("ENTITY_KIND_").lower()
        ctx.require(kind == spec.kind, "H-12", f"type {info.type!r} of kind {spec.kind}",
                    f"kind {kind}")
        media = {common_pb2.MediaType.Name(c.media_type).removeprefix("MEDIA_TYPE_").lower()
                 for c in info.capabilities}
        extra = media - set(spec.media_types)
        ctx.require(not extra, "H-12", f"type {info.type!r} carrying only "
                    f"{', '.join(spec.media_types)}", f"also {', '.join(sorted(extra))}")



__all__ = ["CHECKS", "entity_body", "health_check", "serving_name", "state_name"]
