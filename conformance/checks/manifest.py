"""What module.yaml itself must say (rules C-8, C-12 to C-16), read from the file the module
ships, and HealthCheck's entity types against it (§6.1)."""

from __future__ import annotations

import asyncio
from typing import Any

import yaml

from mediagrid.conformance import codecs as codec_table
from mediagrid.conformance.context import CheckContext
from mediagrid.conformance.registry import Checks
from mediagrid.v1 import common_pb2, module_pb2

CHECKS = Checks("manifest")
RESERVED_ENV = ("GRPC_PORT", "MEDIAGRID_BIND_HOST", "MEDIAGRID_MODULE_ID",
                "MEDIAGRID_ORCHESTRATOR_ADDRESS", "MEDIAGRID_TOKEN", "MEDIAGRID_TLS_CERT_FILE",
                "MEDIAGRID_TLS_KEY_FILE", "MEDIAGRID_TLS_CLIENT_CA_FILE",
                "MEDIAGRID_ADVERTISE_HOST", "MEDIAGRID_ORCHESTRATOR_CA_FILE")


def rule_of_problem(field: str, message: str) -> str:
    """The contract rule a `mediagrid validate` problem breaks (C-1 when no narrower one)."""
    if (field.startswith("config_schema") and "configurable" in message) or \
            field.startswith("configurable"):
        return "C-8"
    if (".config" in field or field.startswith("config_schema")) and (
            "text" in message or "string" in message or "type" in message):
        return "C-12"
    if ".output.media_types" in field:
        return "C-13"
    if ".codecs" in field:
        return "C-14"
    if field.startswith("env."):
        return "C-15"
    return "C-1"


async def raw(ctx: CheckContext) -> dict[str, Any]:
    text = await asyncio.to_thread(ctx.manifest.path.read_text, encoding="utf-8")
    return yaml.safe_load(text) or {}


def string_schema_problems(schema: Any, where: str, top: bool = False) -> list[str]:
    """C-12: every schema a config value is checked against admits strings."""
    if not isinstance(schema, dict):
        return []
    found = []
    if top:
        if schema.get("type", "object") != "object":
            found.append(f"{where}: the top level is type {schema.get('type')!r}, not object")
        children = list((schema.get("properties") or {}).items())
        children += [(f"patternProperties[{k}]", v)
                     for k, v in (schema.get("patternProperties") or {}).items()]
        if isinstance(schema.get("additionalProperties"), dict):
            children.append(("additionalProperties", schema["additionalProperties"]))
        for key, child in children:
            found += string_schema_problems(child, f"{where}.{key}")
        return found
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds and "string" not in kinds:
        found.append(f"{where}: type {kind!r} does not admit strings")
    for word in ("enum", "const", "default"):
        values = schema.get(word)
        values = values if word == "enum" and isinstance(values, list) else (
            [] if values is None else [values])
        bad = [v for v in values if not isinstance(v, str)]
        if bad:
            found.append(f"{where}: {word} {bad[0]!r} is not a string")
    return found


@CHECKS.check("C-8", "C-12", "C-13", "C-14", "C-15", title="module.yaml: config_schema with "
              "configurable, schemas of strings, converters keep the media type, codec names "
              "of §4.5, no reserved env")
async def manifest_rules(ctx: CheckContext) -> None:
    data = await raw(ctx)
    configurable, schema = bool(data.get("configurable")), data.get("config_schema")
    ctx.require(configurable == (schema is not None), "C-8",
                "configurable: true together with config_schema (each needs the other)",
                f"configurable {configurable}, config_schema "
                f"{'present' if schema is not None else 'absent'}")
    problems = string_schema_problems(schema, "config_schema", top=True) if schema else []
    for n, item in enumerate(data.get("entity_types") or []):
        if item.get("config") is not None:
            problems += string_schema_problems(item["config"], f"entity_types[{n}].config",
                                               top=True)
    ctx.require(not problems, "C-12", "config schemas describing maps of strings",
                "; ".join(problems[:3]))
    for n, item in enumerate(data.get("entity_types") or []):
        media = list(item.get("media_types") or [])
        output = item.get("output") or {}
        if item.get("kind") == "converter" and "media_types" in output:
            ctx.require(list(output["media_types"]) == media, "C-13",
                        f"entity_types[{n}] converter output media_types {media}",
                        str(output["media_types"]))
        for side, block in (("", item), (".output", output)):
            codecs = list(block.get("codecs", item.get("codecs") or []) or [])
            protocols = list(block.get("protocols", item.get("protocols") or []) or [])
            for codec in codecs:
                ctx.require(codec_table.MEDIA_OF.get(codec) in media, "C-14",
                            f"entity_types[{n}]{side}.codecs: names of §4.5 of its media types "
                            f"({', '.join(media)})", repr(codec))
                carried = codec in codec_table.CARRIED.get(codec_table.MEDIA_OF[codec], ())
                ctx.require(carried or not set(protocols) & set(codec_table.TRANSPORTS),
                            "C-14", f"entity_types[{n}]{side}: only codecs MPEG-TS carries with "
                            f"a §4.1 transport ({', '.join(protocols)})", repr(codec))
    reserved = [k for k in (data.get("env") or {}) if k in RESERVED_ENV]
    ctx.require(not reserved, "C-15", "no §2.1 variable in env", ", ".join(reserved))


@CHECKS.check("C-16", "H-12", title="HealthCheck's entity types are built from module.yaml as "
              "§6.1 says (order, kind, capabilities per media type, codecs of that media type)")
async def entity_types_from_manifest(ctx: CheckContext) -> None:
    answer = await ctx.ok(ctx.module.HealthCheck, module_pb2.HealthCheckRequest(), "C-16",
                          "HealthCheck")
    declared = {spec.type: spec for spec in ctx.manifest.entity_types}
    order = [t.type for t in answer.entity_types]
    ctx.require(order == [t for t in declared if t in order], "C-16",
                f"entity types in file order {list(declared)}", str(order))
    for info in answer.entity_types:
        spec = declared.get(info.type)
        if spec is None:
            continue  # H-12 (health.entity_types_declared) judges it
        media = [common_pb2.MediaType.Name(c.media_type).removeprefix("MEDIA_TYPE_").lower()
                 for c in info.capabilities]
        ctx.require(media == list(spec.media_types), "C-16",
                    f"{info.type}: one capability set per media type {list(spec.media_types)}",
                    str(media))
        for caps, name in zip(info.capabilities, media, strict=False):
            want = codec_table.of_media(spec.codecs, name) if spec.codecs else []
            ctx.require(list(caps.supported_codecs) == want or (not codec_table.of_media(
                list(spec.codecs), name) and not caps.supported_codecs), "C-16",
                f"{info.type} ({name}): supported_codecs {want}",
                str(list(caps.supported_codecs)))
            ctx.require(list(caps.supported_protocols) == list(spec.protocols), "C-16",
                        f"{info.type} ({name}): supported_protocols {list(spec.protocols)}",
                        str(list(caps.supported_protocols)))
        output = spec.kind == "converter"
        ctx.require(bool(info.output_capabilities) == output, "C-16",
                    f"{info.type}: output_capabilities {'set' if output else 'empty'}",
                    str(len(info.output_capabilities)))
