"""Configuration (rules C-1, C-3 to C-6): module.yaml, and ConfigurableModuleService for
modules that declare `configurable: true`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import jsonschema

from mediagrid.conformance import configs
from mediagrid.conformance.checks.events import event_type, need_events
from mediagrid.conformance.context import CheckContext
from mediagrid.conformance.registry import CONFIGURATION, Checks
from mediagrid.manifest import ManifestError, load_manifest
from mediagrid.v1 import config_pb2, event_pb2

CHECKS = Checks("config")
C = grpc.StatusCode


def needs_configurable(manifest) -> str | None:  # type: ignore[no-untyped-def]
    return None if manifest.configurable else "module.yaml does not say configurable: true"


@CHECKS.check("C-1", title="module.yaml is valid against the published schema; the command is "
              "an argument list")
async def manifest_valid(ctx: CheckContext) -> None:
    try:
        manifest = await asyncio.to_thread(load_manifest, ctx.manifest.path)
    except ManifestError as exc:
        raise ctx.fail("C-1", "a module.yaml valid against the published schema",
                       "; ".join(str(p) for p in exc.problems)) from None
    ctx.require(isinstance(manifest.command, tuple) and manifest.command, "C-1",
                "command as a list of arguments", repr(manifest.command))


async def schema_of(ctx: CheckContext) -> dict[str, Any]:
    response = await ctx.ok(ctx.config.GetConfigSchema, config_pb2.GetConfigSchemaRequest(),
                            "C-3", "GetConfigSchema")
    try:
        schema = json.loads(response.json_schema)
        jsonschema.Draft202012Validator.check_schema(schema)
    except (ValueError, jsonschema.SchemaError) as exc:
        raise ctx.fail("C-3", "a JSON Schema (draft 2020-12) document",
                       f"{type(exc).__name__}: {str(exc)[:200]}") from None
    ctx.require(isinstance(schema, dict), "C-3", "a JSON Schema object", type(schema).__name__)
    declared = schema.get("$schema", "")
    ctx.require(not declared or "2020-12" in declared, "C-3", "draft 2020-12", repr(declared))
    return schema


async def module_config(ctx: CheckContext, schema: dict[str, Any]) -> dict[str, str]:
    sample = ctx.manifest.conformance.get("module_config")
    found = dict(sample) if sample is not None else configs.valid_from_schema(schema)
    if found is None:
        raise ctx.skip("no valid module configuration: add conformance.module_config to "
                       "module.yaml")
    return found


@CHECKS.check("C-3", profile=CONFIGURATION, needs=[needs_configurable],
              title="ConfigurableModuleService is served; GetConfigSchema is a JSON Schema")
async def serves_config_service(ctx: CheckContext) -> None:
    await schema_of(ctx)
    await ctx.ok(ctx.config.GetConfig, config_pb2.GetConfigRequest(), "C-3", "GetConfig")


@CHECKS.check("C-4", profile=CONFIGURATION, needs=[needs_configurable], exclusive=True,
              title="an invalid config is INVALID_ARGUMENT naming the key and changes nothing; "
              "validate_only changes nothing")
async def invalid_config_refused(ctx: CheckContext) -> None:
    schema = await schema_of(ctx)
    valid = await module_config(ctx, schema)
    from mediagrid.manifest.model import EntityTypeSpec

    spec = EntityTypeSpec(type="module", kind="source", media_types=("video",), config=schema)
    before = await ctx.ok(ctx.config.GetConfig, config_pb2.GetConfigRequest(), "C-4", "GetConfig")
    bad = configs.invalid_configs(spec, valid)
    for item in bad:
        await ctx.expect_code(ctx.config.ApplyConfig, config_pb2.ApplyConfigRequest(
            config=item.config, replace=True), C.INVALID_ARGUMENT, "C-4",
            f"ApplyConfig with {item.why}", naming=(item.key,))
        after = await ctx.ok(ctx.config.GetConfig, config_pb2.GetConfigRequest(), "C-4",
                             "GetConfig")
        ctx.require(after.config == before.config and after.revision == before.revision, "C-4",
                    f"the configuration in force unchanged (revision {before.revision})",
                    f"revision {after.revision}, {dict(after.config)}")
    checked = await ctx.ok(ctx.config.ApplyConfig, config_pb2.ApplyConfigRequest(
        config=valid, validate_only=True), "C-4", "ApplyConfig validate_only with a valid config")
    after = await ctx.ok(ctx.config.GetConfig, config_pb2.GetConfigRequest(), "C-4", "GetConfig")
    ctx.require(after.revision == before.revision and after.config == before.config, "C-4",
                f"validate_only changing nothing (revision {before.revision})",
                f"revision {after.revision} (answer said {checked.revision})")
    if not bad:
        ctx.note("the module's config schema refuses nothing the suite could generate")


@CHECKS.check("C-5", "C-6", profile=CONFIGURATION, needs=[needs_configurable], exclusive=True,
              title="each applied change raises the revision by 1; a stale expected_revision is "
              "ABORTED; an INFO event gives the revision")
async def revisions(ctx: CheckContext) -> None:
    schema = await schema_of(ctx)
    valid = await module_config(ctx, schema)
    before = await ctx.ok(ctx.config.GetConfig, config_pb2.GetConfigRequest(), "C-5", "GetConfig")
    applied = await ctx.ok(ctx.config.ApplyConfig, config_pb2.ApplyConfigRequest(
        config=valid, expected_revision=before.revision), "C-5",
        f"ApplyConfig with expected_revision={before.revision} (the one in force)")
    ctx.require(applied.revision == before.revision + 1, "C-5",
                f"revision {before.revision + 1}", str(applied.revision))
    stale = applied.revision  # not 0: expected_revision 0 means "no check"
    applied = await ctx.ok(ctx.config.ApplyConfig, config_pb2.ApplyConfigRequest(
        config=valid, expected_revision=stale), "C-5",
        f"ApplyConfig with expected_revision={stale} (the one in force)")
    ctx.require(applied.revision == stale + 1, "C-5", f"revision {stale + 1}",
                str(applied.revision))
    await ctx.expect_code(ctx.config.ApplyConfig, config_pb2.ApplyConfigRequest(
        config=valid, expected_revision=stale), C.ABORTED, "C-5",
        f"a stale expected_revision ({stale}; {applied.revision} is in force)")
    if ctx.suite.events is None:
        return
    need_events(ctx)
    revision = str(applied.revision)

    def reported() -> bool:
        return any(event_type(r) == event_pb2.EVENT_TYPE_INFO and
                   r.event.details.get("revision") == revision
                   for r in ctx.recorder.accepted(ctx.suite.target.instance_id))
    ctx.require(await ctx.recorder.wait_for(reported, within=3.0), "C-6",
                f"an INFO event with details['revision'] = {revision}", "none within 3 s")
