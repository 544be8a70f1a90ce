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


async def raw_manifest(ctx: CheckContext) -> dict[str, Any]:
    from mediagrid.conformance.checks.manifest import raw

    return await raw(ctx)


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


def alternatives(schema: dict[str, Any], base: dict[str, str]) -> list[dict[str, str]]:
    """Valid configurations that differ from `base` and from each other (one enum key)."""
    return [{**base, **change} for change in variants(schema, base)]


def variants(schema: dict[str, Any], valid: dict[str, str]) -> list[dict[str, str]]:
    """Valid one-key changes of `valid` (another enum value), to make a real change."""
    found = []
    for key, prop in (schema.get("properties") or {}).items():
        for value in prop.get("enum", ()) if isinstance(prop, dict) else ():
            if isinstance(value, str) and value != valid.get(key):
                found.append({key: value})
    return found


async def module_config(ctx: CheckContext, schema: dict[str, Any]) -> dict[str, str]:
    sample = ctx.manifest.conformance.get("module_config")
    found = dict(sample) if sample is not None else configs.valid_from_schema(schema)
    if found is None:
        raise ctx.skip("no valid module configuration: add conformance.module_config to "
                       "module.yaml")
    return found


@CHECKS.check("C-3", profile=CONFIGURATION, needs=[needs_configurable],
              title="ConfigurableModuleService is served; GetConfigSchema is module.yaml's "
              "config_schema as a JSON Schema")
async def serves_config_service(ctx: CheckContext) -> None:
    schema = await schema_of(ctx)
    declared = (await raw_manifest(ctx)).get("config_schema")
    if declared is not None:
        served = {k: v for k, v in schema.items() if k != "$schema"}
        ctx.require(served == {k: v for k, v in declared.items() if k != "$schema"}, "C-3",
                    "GetConfigSchema equal to module.yaml config_schema",
                    json.dumps(schema)[:200])
    await ctx.ok(ctx.config.GetConfig, config_pb2.GetConfigRequest(), "C-3", "GetConfig")


@CHECKS.check("C-9", profile=CONFIGURATION, needs=[needs_configurable], launch_only=True,
              title="a new instance's configuration (revision 0) is config_schema's string "
              "defaults")
async def defaults_at_revision_zero(ctx: CheckContext) -> None:
    async with ctx.launch() as process:
        ctx.stubs(ctx.channel(process.address))
        schema = (await raw_manifest(ctx)).get("config_schema") or await schema_of(ctx)
        defaults = {k: p["default"] for k, p in (schema.get("properties") or {}).items()
                    if isinstance(p, dict) and isinstance(p.get("default"), str)}
        answer = await ctx.ok(ctx.config.GetConfig, config_pb2.GetConfigRequest(), "C-9",
                              "GetConfig on a new instance")
        shown = {k: ("***" if v == "***" else v) for k, v in answer.config.items()}
        want = {k: ("***" if dict(answer.config).get(k) == "***" else v)
                for k, v in defaults.items()}
        ctx.require(answer.revision == 0 and shown == want, "C-9",
                    f"revision 0 with the schema's defaults {defaults}",
                    f"revision {answer.revision}, {dict(answer.config)}")


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
    changed = {**valid, **next(iter(variants(schema, valid)), {})}
    checked = await ctx.ok(ctx.config.ApplyConfig, config_pb2.ApplyConfigRequest(
        config=changed, validate_only=True), "C-4",
        "ApplyConfig validate_only with a valid config")
    if dict(before.config) != changed:
        ctx.require(checked.revision == before.revision + 1, "C-10",
                    f"validate_only answering the revision it would have ({before.revision + 1})",
                    str(checked.revision))
    after = await ctx.ok(ctx.config.GetConfig, config_pb2.GetConfigRequest(), "C-4", "GetConfig")
    ctx.require(after.revision == before.revision and after.config == before.config, "C-4",
                f"validate_only changing nothing (revision {before.revision})",
                f"revision {after.revision} (answer said {checked.revision})")
    if not bad:
        ctx.note("the module's config schema refuses nothing the suite could generate")


@CHECKS.check("C-5", "C-6", "C-10", profile=CONFIGURATION, needs=[needs_configurable],
              exclusive=True,
              title="each applied change raises the revision by 1; a stale expected_revision is "
              "ABORTED; an INFO event gives the revision")
async def revisions(ctx: CheckContext) -> None:
    schema = await schema_of(ctx)
    valid = await module_config(ctx, schema)
    before = await ctx.ok(ctx.config.GetConfig, config_pb2.GetConfigRequest(), "C-5", "GetConfig")
    current = dict(before.config)
    first = {**current, **valid}
    if first == current:
        first = next(iter(alternatives(schema, current)), current)
    changes = [first, *alternatives(schema, first)[:1]]
    if len(changes) < 2 or first == current:
        raise ctx.skip("cannot build two different valid configurations from the config schema "
                       "(no enum with two values): add conformance.module_config variants")
    revision = before.revision
    for config in changes[:2]:  # two real changes, each checked against the revision in force
        applied = await ctx.ok(ctx.config.ApplyConfig, config_pb2.ApplyConfigRequest(
            config=config, expected_revision=revision), "C-5",
            f"ApplyConfig changing {config} with expected_revision={revision} (the one in force)")
        ctx.require(applied.revision == revision + 1, "C-5", f"revision {revision + 1}",
                    str(applied.revision))
        revision = applied.revision
    stale = revision - 1  # not 0: expected_revision 0 means "no check"
    valid = changes[1]
    await ctx.expect_code(ctx.config.ApplyConfig, config_pb2.ApplyConfigRequest(
        config=changes[0], expected_revision=stale), C.ABORTED, "C-5",
        f"a stale expected_revision ({stale}; {revision} is in force)")
    same = await ctx.ok(ctx.config.ApplyConfig, config_pb2.ApplyConfigRequest(config=valid),
                        "C-10", "ApplyConfig of the configuration already in force")
    ctx.require(same.revision == revision, "C-10",
                f"the same revision ({revision}) for a change that changes nothing",
                str(same.revision))
    await ctx.expect_code(ctx.config.ApplyConfig, config_pb2.ApplyConfigRequest(
        config=valid, validate_only=True, expected_revision=stale), C.ABORTED, "C-10",
        "validate_only with a stale expected_revision (it makes every check)")
    if ctx.suite.events is None:
        return
    need_events(ctx)
    revision_text = str(revision)

    def reported() -> bool:
        return any(event_type(r) == event_pb2.EVENT_TYPE_INFO and
                   r.event.details.get("revision") == revision_text
                   for r in ctx.recorder.accepted(ctx.suite.target.instance_id))
    ctx.require(await ctx.recorder.wait_for(reported, within=3.0), "C-6",
                f"an INFO event with details['revision'] = {revision_text}", "none within 3 s")
