"""Module-wide configuration (rules C-8..C-11, N-11, N-20): where the schema comes from, what
GetConfig starts from, what changes the revision, when the service answers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import pytest

from mediagrid import sdk
from mediagrid.sdk.config import ModuleConfig
from mediagrid.sdk.state import ModuleState
from mediagrid.v1 import config_pb2, entity_pb2, event_pb2
from tests.sdk.conftest import Harness
from tests.support import ROOT

C = "ConfigurableModuleService"
Code = grpc.StatusCode
apply = config_pb2.ApplyConfigRequest
ENV = {"GRPC_PORT": "1", "MEDIAGRID_MODULE_ID": "m"}


def infos(h: Harness) -> list[str]:
    return [r.event.details["revision"] for r in h.reports()
            if r.event.type == event_pb2.EVENT_TYPE_INFO]


def test_c8_a_configurable_module_without_a_schema_exits_2_at_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = sdk.Module("m", configurable=True)
    assert asyncio.run(sdk.serve_async(module, ENV)) == sdk.EXIT_CONFIG
    assert "config_schema" in capsys.readouterr().err


def test_c8_an_invalid_module_yaml_exits_2_at_start_not_at_import(
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = ROOT / "fixtures" / "invalid-modules" / "configurable-without-schema"
    module = sdk.Module.from_manifest(case / "module.yaml")  # no exception here
    assert asyncio.run(sdk.serve_async(module, ENV)) == sdk.EXIT_CONFIG
    assert "configurable: the module is configurable but has no config_schema" in \
        capsys.readouterr().err


def test_c3_c8_the_schema_served_is_module_yamls() -> None:
    module = sdk.Module.from_manifest(ROOT / "fixtures" / "modules" / "full" / "module.yaml")
    served = json.loads(ModuleConfig(module).schema_json())
    assert served.pop("$schema") == "https://json-schema.org/draft/2020-12/schema"
    assert served == module.config_schema


def test_c9_get_config_starts_from_the_schemas_defaults(make_harness: Any) -> None:
    h: Harness = make_harness(configurable=True)
    start = h.ok(C, "GetConfig", config_pb2.GetConfigRequest())
    assert (dict(start.config), start.revision) == ({"region": "eu"}, 0)


def test_c10_a_no_op_keeps_the_revision_and_validate_only_answers_as_applying(
    make_harness: Any,
) -> None:
    h: Harness = make_harness(configurable=True)
    assert h.ok(C, "ApplyConfig", apply(config={"region": "eu"})).revision == 0  # no change
    preview = h.ok(C, "ApplyConfig", apply(config={"level": "high"}, validate_only=True))
    assert (dict(preview.config), preview.revision) == ({"region": "eu", "level": "high"}, 1)
    h.fails(C, "ApplyConfig", apply(config={"level": "high"}, validate_only=True,
                                    expected_revision=7), Code.ABORTED)
    now = h.ok(C, "GetConfig", config_pb2.GetConfigRequest())
    assert (dict(now.config), now.revision) == ({"region": "eu"}, 0)  # nothing changed
    assert infos(h) == []  # and nothing was reported
    assert h.ok(C, "ApplyConfig", apply(config={"level": "high"}, expected_revision=0)
                ).revision == 1
    assert h.ok(C, "ApplyConfig", apply(config={"level": "high"})).revision == 1
    assert infos(h) == ["1"]


@pytest.mark.parametrize("state", [ModuleState.STARTING, ModuleState.STOPPING])
def test_c11_config_calls_are_unavailable_while_starting_or_stopping(
    make_harness: Any, state: ModuleState
) -> None:
    h: Harness = make_harness(configurable=True, ready=state is not ModuleState.STARTING)
    if state is ModuleState.STOPPING:
        h.rt.begin_shutdown()
    for method, request in (("GetConfigSchema", config_pb2.GetConfigSchemaRequest()),
                            ("GetConfig", config_pb2.GetConfigRequest()),
                            ("ApplyConfig", apply(config={"level": "low"}))):
        h.fails(C, method, request, Code.UNAVAILABLE)


def test_c11_a_module_in_error_can_be_reconfigured(make_harness: Any) -> None:
    h: Harness = make_harness(configurable=True)
    h.rt.status.transition(ModuleState.ERROR, "bad credentials")
    assert h.ok(C, "ApplyConfig", apply(config={"secret": "right"})).revision == 1


def test_n11_n20_module_config_secrets_are_redacted_and_kept(make_harness: Any) -> None:
    h: Harness = make_harness(configurable=True)
    h.ok(C, "ApplyConfig", apply(config={"secret": "s3", "level": "low"}))
    back = h.ok(C, "GetConfig", config_pb2.GetConfigRequest())
    assert back.config["secret"] == "***"
    again = h.ok(C, "ApplyConfig", apply(config=dict(back.config), replace=True))
    assert again.revision == 1  # written back unchanged: a no-op
    assert h.rt.config is not None and h.rt.config.values["secret"] == "s3"


def test_on_config_hooks_see_the_new_config_and_entities_read_it(make_harness: Any) -> None:
    h: Harness = make_harness(configurable=True)
    seen: list[dict[str, str]] = []

    async def hook(config: dict[str, str]) -> None:
        if config.get("level") == "high" and "secret" not in config:
            raise sdk.InvalidArgument("config.level high needs config.secret")
        seen.append(config)

    h.rt.module.on_config(hook)
    assert "needs config.secret" in h.fails(C, "ApplyConfig", apply(config={"level": "high"}),
                                            Code.INVALID_ARGUMENT)
    h.ok(C, "ApplyConfig", apply(config={"level": "high", "secret": "k"}))
    assert seen == [{"region": "eu", "level": "high", "secret": "k"}]
    entity, _ = h.loop.run(h.rt.entities.create(entity_pb2.CreateEntityRequest(
        entity_type="mic")))
    assert entity.module_config == {"region": "eu", "level": "high", "secret": "k"}
