"""Plain parts of the SDK: settings, the module state machine, the registry, entity types."""

from __future__ import annotations

import pytest

from mediagrid import sdk
from mediagrid.sdk.state import TransitionError
from mediagrid.sdk.store import Registry
from tests.sdk.conftest import HELLO


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "GRPC_PORT is not set"),
        ({"GRPC_PORT": "0"}, "GRPC_PORT='0'"),
        ({"GRPC_PORT": "1", "MEDIAGRID_MODULE_ID": "Bad"}, "MEDIAGRID_MODULE_ID"),
        ({"GRPC_PORT": "1", "MEDIAGRID_ORCHESTRATOR_ADDRESS": "nohost"},
         "MEDIAGRID_ORCHESTRATOR_ADDRESS"),
    ],
)
def test_bad_environment_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(sdk.ConfigurationError, match=variable):
        sdk.Settings.from_env(env)


def test_settings_defaults() -> None:
    s = sdk.Settings.from_env({"GRPC_PORT": "50051", "MEDIAGRID_TOKEN": "t"})
    assert (s.address, s.token, s.orchestrator_address) == ("127.0.0.1:50051", "t", "")
    assert sdk.Settings.from_env({"GRPC_PORT": "1", "MEDIAGRID_BIND_HOST": "::1"}).address == \
        "[::1]:1"


def test_module_state_machine() -> None:
    seen: list[tuple[str, str]] = []
    status = sdk.ModuleStatusTracker(listeners=[lambda a, b: seen.append((a.name, b.name))])
    assert status.state is sdk.ModuleState.STARTING
    status.transition(sdk.ModuleState.READY)
    status.transition(sdk.ModuleState.ERROR, "camera gone")
    assert (status.health, status.error_message) == (sdk.Health.UNHEALTHY, "camera gone")
    status.transition(sdk.ModuleState.READY)
    assert status.transition(sdk.ModuleState.STOPPING) is True
    assert status.transition(sdk.ModuleState.STOPPING) is False
    with pytest.raises(TransitionError):
        status.transition(sdk.ModuleState.READY)
    assert seen[0] == ("STARTING", "READY") and seen[-1] == ("READY", "STOPPING")


def test_registry_tombstones_and_tokens() -> None:
    reg: Registry[str] = Registry("entity", "abcdef12-instance")
    for name in "abcde":
        reg.add(name, name.upper())
    reg.remove("b")
    assert reg.existed("b") and not reg.existed("z")
    with pytest.raises(sdk.NotFound, match="was removed"):
        reg.require("b", "entity_id")
    with pytest.raises(sdk.NotFound, match="does not exist"):
        reg.require("z", "entity_id")
    items, token = reg.page(2, "")
    assert items == ["A", "C"] and token
    assert reg.page(2, token) == (["D", "E"], "")
    other: Registry[str] = Registry("entity", "99999999-other")
    with pytest.raises(sdk.InvalidArgument, match="page_token"):
        other.page(2, token)


def test_entity_type_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="kind"):
        sdk.EntityType("x", kind="camera", media_types=["video"])
    with pytest.raises(ValueError, match="media_types"):
        sdk.EntityType("x", kind="source", media_types=[])
    module = sdk.Module("m", entity_types=[sdk.EntityType("x", "source", ["video"])])
    with pytest.raises(sdk.ConfigurationError, match=r"@module.entity\('x'\)"):
        module.check()

    @module.entity("y")  # kept, not raised at import: serve() exits 2 with it
    class Y(sdk.Entity):
        pass

    with pytest.raises(sdk.ConfigurationError, match="'y' is not declared"):
        module.check()


def test_the_example_reads_its_module_yaml() -> None:
    module = sdk.Module.from_manifest(HELLO / "module.yaml")
    assert (module.id, module.version) == ("hello", "0.1.0")
    assert list(module.entity_types) == ["testsrc", "null"]
    testsrc = module.entity_types["testsrc"]
    assert testsrc.with_defaults({}) == {"size": "320x240", "rate": "25"}
    with pytest.raises(sdk.InvalidArgument, match=r"config\.rate"):
        testsrc.validate_config({"rate": "fast"})


def test_the_example_stays_under_100_lines() -> None:
    assert len((HELLO / "module.py").read_text().splitlines()) < 100
