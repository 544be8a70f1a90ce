"""Plain parts of the SDK: settings, the module state machine, the registry, entity types."""

from __future__ import annotations

import pytest

from mediagrid import sdk
from mediagrid.sdk.state import TransitionError
from mediagrid.sdk.store import Registry
from tests.sdk.conftest import HELLO

ID = {"MEDIAGRID_MODULE_ID": "m"}


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({**ID}, "GRPC_PORT is not set"),
        ({**ID, "GRPC_PORT": "0"}, "GRPC_PORT='0'"),
        # H-3: decimal digits only, no sign, spaces or leading zeros
        ({**ID, "GRPC_PORT": "08080"}, "GRPC_PORT='08080'"),
        ({**ID, "GRPC_PORT": " 8080"}, "GRPC_PORT=' 8080'"),
        ({**ID, "GRPC_PORT": "+8080"}, "GRPC_PORT='\\+8080'"),
        ({**ID, "GRPC_PORT": "\u0661\u0662"}, "GRPC_PORT="),  # Arabic-Indic digits
        ({**ID, "GRPC_PORT": "65536"}, "GRPC_PORT='65536'"),
        # H-23: the module id is required and is a module id
        ({"GRPC_PORT": "1"}, "MEDIAGRID_MODULE_ID is not set"),
        ({"GRPC_PORT": "1", "MEDIAGRID_MODULE_ID": "Bad"}, "MEDIAGRID_MODULE_ID='Bad'"),
        ({"GRPC_PORT": "1", "MEDIAGRID_MODULE_ID": "a_b"}, "MEDIAGRID_MODULE_ID='a_b'"),
        ({"GRPC_PORT": "1", "MEDIAGRID_MODULE_ID": "m" * 64}, "MEDIAGRID_MODULE_ID='m{64}'"),
        # H-24: a malformed orchestrator address or advertise host
        ({**ID, "GRPC_PORT": "1", "MEDIAGRID_ORCHESTRATOR_ADDRESS": "nohost"},
         "MEDIAGRID_ORCHESTRATOR_ADDRESS"),
        ({**ID, "GRPC_PORT": "1", "MEDIAGRID_ORCHESTRATOR_ADDRESS": "::1:50050"},
         "MEDIAGRID_ORCHESTRATOR_ADDRESS"),
        ({**ID, "GRPC_PORT": "1", "MEDIAGRID_ORCHESTRATOR_ADDRESS": "host:050050"},
         "MEDIAGRID_ORCHESTRATOR_ADDRESS"),
        ({**ID, "GRPC_PORT": "1", "MEDIAGRID_ORCHESTRATOR_ADDRESS": "bad_host:1"},
         "MEDIAGRID_ORCHESTRATOR_ADDRESS"),
        ({**ID, "GRPC_PORT": "1", "MEDIAGRID_ORCHESTRATOR_ADDRESS": "[orch.lan]:1"},
         "MEDIAGRID_ORCHESTRATOR_ADDRESS"),  # brackets are for IPv6 only
        ({**ID, "GRPC_PORT": "1", "MEDIAGRID_ADVERTISE_HOST": "h:1"}, "MEDIAGRID_ADVERTISE_HOST"),
        ({**ID, "GRPC_PORT": "1", "MEDIAGRID_ORCHESTRATOR_CA_FILE": "/nonexistent.pem"},
         "MEDIAGRID_ORCHESTRATOR_CA_FILE"),
    ],
)
def test_h3_h23_h24_bad_environment_names_the_variable(
    env: dict[str, str], variable: str
) -> None:
    with pytest.raises(sdk.ConfigurationError, match=variable):
        sdk.Settings.from_env(env)


def test_settings_defaults() -> None:
    s = sdk.Settings.from_env({**ID, "GRPC_PORT": "50051", "MEDIAGRID_TOKEN": "t"})
    assert (s.address, s.token, s.orchestrator_address) == ("127.0.0.1:50051", "t", "")
    assert sdk.Settings.from_env({**ID, "GRPC_PORT": "1", "MEDIAGRID_BIND_HOST": "::1"}).address \
        == "[::1]:1"
    v6 = sdk.Settings.from_env({**ID, "GRPC_PORT": "1",
                                "MEDIAGRID_ORCHESTRATOR_ADDRESS": "[::1]:50050"})
    assert v6.orchestrator_address == "[::1]:50050"  # H-24: an IPv6 host in brackets
    longest = "m" * 63  # H-23: a module id is at most 63 characters
    assert sdk.Settings.from_env({"GRPC_PORT": "1", "MEDIAGRID_MODULE_ID": longest}).module_id \
        == longest


@pytest.mark.parametrize(("bind", "advertise", "expected"), [
    ("127.0.0.1", "", "127.0.0.1"), ("0.0.0.0", "", "127.0.0.1"), ("::", "", "::1"),
    ("0.0.0.0", "cam-box.lan", "cam-box.lan"), ("192.0.2.7", "", "192.0.2.7"),
])
def test_p17_the_endpoint_host_is_advertised_not_wildcard(
    bind: str, advertise: str, expected: str
) -> None:
    env = {**ID, "GRPC_PORT": "1", "MEDIAGRID_BIND_HOST": bind,
           "MEDIAGRID_ADVERTISE_HOST": advertise}
    assert sdk.Settings.from_env(env).endpoint_host == expected


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


@pytest.mark.parametrize(("kw", "words"), [
    ({"codecs": ["h246"]}, "not a codec name"),
    ({"codecs": ["aac"]}, "'aac' is audio"),
    ({"codecs": ["vp8"], "protocols": ["mpegts-udp"]}, "cannot travel over mpegts-udp"),
    ({"config": {"type": "object", "properties": {"n": {"type": "integer"}}}},
     "config.properties.n.type"),
])
def test_c12_c14_types_declared_in_code_are_checked_like_module_yaml(
    kw: dict[str, object], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        sdk.EntityType("x", kind="sink", media_types=["video"], **kw)  # type: ignore[arg-type]
    sdk.EntityType("x", kind="sink", media_types=["video"], codecs=["vp8"])  # LOCAL only: fine


def test_c14_a_converters_output_codecs_travel_over_its_output_protocols() -> None:
    with pytest.raises(ValueError, match="output_codecs: 'vp9' cannot travel over srt"):
        sdk.EntityType("x", kind="converter", media_types=["video"], protocols=["file"],
                       codecs=["vp8"], output_protocols=["srt"], output_codecs=["vp9"])
    sdk.EntityType("x", kind="converter", media_types=["video"], protocols=["srt"],
                   codecs=["h264"], output_protocols=["file"], output_codecs=["vp9"])


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
