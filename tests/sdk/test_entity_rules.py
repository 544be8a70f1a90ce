"""Module and entity rules (H-*, N-*, C-*) that test_servicers.py does not reach, each test
named after the rule it would catch breaking."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import pytest

from mediagrid import sdk
from mediagrid.sdk.state import ModuleState
from mediagrid.v1 import common_pb2, config_pb2, entity_pb2, event_pb2, module_pb2, pipeline_pb2
from tests.sdk.conftest import HELLO, Harness
from tests.sdk.modules import make_edge_module
from tests.sdk.test_servicers import create, eid

E, P, M = "EntityService", "PipelineService", "ModuleService"
Code = grpc.StatusCode

EVERY_CALL = [
    (E, "CreateEntity", entity_pb2.CreateEntityRequest(entity_type="cam")),
    (E, "ConfigureEntity", entity_pb2.ConfigureEntityRequest(entity_id="cam-1")),
    (E, "GetEntityStatus", entity_pb2.GetEntityStatusRequest(entity_id="cam-1")),
    (E, "DestroyEntity", entity_pb2.DestroyEntityRequest(entity_id="cam-1")),
    (E, "ListEntities", entity_pb2.ListEntitiesRequest()),
    (P, "ConnectEntities", pipeline_pb2.ConnectEntitiesRequest(connection_id="c1")),
    (P, "DisconnectEntities", pipeline_pb2.DisconnectEntitiesRequest(connection_id="c1")),
    (P, "StartFlow", pipeline_pb2.StartFlowRequest(flow_id="f", connection_ids=["c1"])),
    (P, "StopFlow", pipeline_pb2.StopFlowRequest(flow_id="f")),
    (P, "GetFlowStatus", pipeline_pb2.GetFlowStatusRequest(flow_id="f")),
    (P, "AdjustQuality", pipeline_pb2.AdjustQualityRequest(flow_id="f")),
]


@pytest.mark.parametrize("state", [ModuleState.STARTING, ModuleState.ERROR, ModuleState.STOPPING])
def test_h10_every_entity_and_pipeline_call_is_unavailable_unless_ready(
    make_harness: Any, state: ModuleState
) -> None:
    h: Harness = make_harness(ready=state is not ModuleState.STARTING)
    if state is not ModuleState.STARTING:
        h.rt.status.transition(state, "camera gone")
    for service, method, request in EVERY_CALL:
        assert "not READY" in h.fails(service, method, request, Code.UNAVAILABLE), method
    reply = h.ok(M, "HealthCheck", module_pb2.HealthCheckRequest())  # H-5: OK in every state
    assert reply.status.state == int(state)


def test_h10_a_call_queued_behind_a_shutdown_is_unavailable(harness: Harness) -> None:
    rt = harness.rt

    async def scenario() -> None:
        await rt.lock.acquire()  # as a running teardown would hold it
        queued = asyncio.ensure_future(rt.entities.create(
            entity_pb2.CreateEntityRequest(entity_type="cam")))
        await asyncio.sleep(0.01)
        rt.begin_shutdown()
        rt.lock.release()
        with pytest.raises(sdk.Unavailable):
            await queued

    harness.loop.run(scenario())
    assert len(rt.entities.registry) == 0


def test_h5_health_check_never_waits_on_the_entity_lock(harness: Harness) -> None:
    harness.loop.run(harness.rt.lock.acquire())
    try:  # the harness call has a 10 s deadline; a HealthCheck that took the lock would hang
        reply = harness.ok(M, "HealthCheck", module_pb2.HealthCheckRequest())
        assert reply.status.state == module_pb2.MODULE_STATE_READY
    finally:
        harness.loop.loop.call_soon_threadsafe(harness.rt.lock.release)


def test_h6_instance_id_is_stable_per_process_and_new_per_start(make_harness: Any) -> None:
    a, b = make_harness(), make_harness()
    ids = [h.ok(M, "HealthCheck", module_pb2.HealthCheckRequest()).status.instance_id
           for h in (a, a, b)]
    assert ids[0] and ids[0] == ids[1] != ids[2]


def test_h12_a_manifest_module_offers_only_its_declared_types() -> None:
    module = sdk.Module.from_manifest(HELLO / "module.yaml")

    @module.entity(sdk.EntityType("extra", kind="source", media_types=["video"]))
    class Extra(sdk.Entity):
        pass

    assert list(module.entity_types) == ["testsrc", "null"]
    with pytest.raises(sdk.ConfigurationError, match=r"not in .*module\.yaml"):
        module.check()


def test_n1_n4_one_media_type_per_entity(harness: Harness) -> None:
    audio = create(harness, "both", media_type=common_pb2.MEDIA_TYPE_AUDIO).protocol
    assert audio.media_type == common_pb2.MEDIA_TYPE_AUDIO
    assert audio.HasField("requires_audio") and not audio.HasField("requires_video")
    assert "not a media type" in harness.fails(E, "CreateEntity", entity_pb2.CreateEntityRequest(
        entity_type="both", media_type=7), Code.INVALID_ARGUMENT)


def test_n7_a_failed_configure_leaves_the_config_in_force(harness: Harness) -> None:
    cam = eid(create(harness, "cam", config={"mode": "fast"}))
    configure = entity_pb2.ConfigureEntityRequest
    harness.fails(E, "ConfigureEntity", configure(entity_id=cam, config={"size": "huge"}),
                  Code.INVALID_ARGUMENT)  # refused by the schema
    details = harness.fails(E, "ConfigureEntity", configure(entity_id=cam, config={
        "size": "1x1", "mode": "slow"}), Code.INVALID_ARGUMENT)  # refused by the hook
    assert "config.size" in details
    now = harness.ok(E, "ConfigureEntity", configure(entity_id=cam)).entity.source.config
    assert now == {"mode": "fast", "size": "320x240"}


def test_n9_requested_ids_are_used_and_a_live_one_is_already_exists(harness: Harness) -> None:
    assert eid(create(harness, "cam", entity_id="front_door-1")) == "front_door-1"
    details = harness.fails(E, "CreateEntity", entity_pb2.CreateEntityRequest(
        entity_type="cam", entity_id="front_door-1"), Code.ALREADY_EXISTS)
    assert "front_door-1" in details
    harness.fails(E, "CreateEntity", entity_pb2.CreateEntityRequest(
        entity_type="cam", entity_id="x" * 129), Code.INVALID_ARGUMENT)


@pytest.mark.parametrize(
    ("config", "words"),
    [({"k" * 129: "v"}, ["128"]), ({f"k{i}": "v" for i in range(65)}, ["65 keys", "64"])],
)
def test_n10_config_limits(harness: Harness, config: dict[str, str], words: list[str]) -> None:
    details = harness.fails(E, "CreateEntity", entity_pb2.CreateEntityRequest(
        entity_type="mic", config=config), Code.INVALID_ARGUMENT)
    assert all(w in details for w in words), details


def test_n10_a_merged_config_obeys_the_key_limit(harness: Harness) -> None:
    mic = eid(create(harness, "mic", config={f"a{i}": "v" for i in range(64)}))  # 64 is fine
    details = harness.fails(E, "ConfigureEntity", entity_pb2.ConfigureEntityRequest(
        entity_id=mic, config={"one_more": "v"}), Code.INVALID_ARGUMENT)
    assert "merged" in details and "64" in details


def test_n11_keys_naming_secrets_are_redacted(harness: Harness) -> None:
    mic = create(harness, "mic", config={"db_password": "p", "API_TOKEN": "t",
                                         "client_secret": "s", "url": "rtsp://x"}).source
    assert dict(mic.config) == {"db_password": "***", "API_TOKEN": "***",
                                "client_secret": "***", "url": "rtsp://x"}


def test_n12_a_destroyed_entity_is_not_listed_and_says_nothing_more(harness: Harness) -> None:
    cam, rec = eid(create(harness, "cam")), eid(create(harness, "rec"))
    entity = harness.rt.entities.registry.get(cam)
    harness.ok(E, "DestroyEntity", entity_pb2.DestroyEntityRequest(entity_id=cam))
    listed = harness.ok(E, "ListEntities", entity_pb2.ListEntitiesRequest()).entities
    assert [eid(e) for e in listed] == [rec]
    assert all(e.sink.status.state != common_pb2.ENTITY_STATE_DESTROYED for e in listed)
    before = len(harness.reports())
    assert entity is not None
    entity.fail("late failure")  # e.g. a callback that outlived the entity: ignored (E-7)
    assert len(harness.reports()) == before


def test_c3_c4_c5_c6_config_schema_and_revisions(make_harness: Any) -> None:
    h: Harness = make_harness(configurable=True)
    C, apply = "ConfigurableModuleService", config_pb2.ApplyConfigRequest
    schema = json.loads(h.ok(C, "GetConfigSchema", config_pb2.GetConfigSchemaRequest()
                             ).json_schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"  # C-3
    h.ok(C, "ApplyConfig", apply(config={"level": "low"}))
    h.fails(C, "ApplyConfig", apply(config={"level": "max"}), Code.INVALID_ARGUMENT)
    h.ok(C, "ApplyConfig", apply(config={"level": "high"}, validate_only=True))
    h.fails(C, "ApplyConfig", apply(config={"level": "high"}, expected_revision=2), Code.ABORTED)
    in_force = h.ok(C, "GetConfig", config_pb2.GetConfigRequest())
    assert (dict(in_force.config), in_force.revision) == ({"level": "low", "region": "eu"}, 1)
    assert h.ok(C, "ApplyConfig", apply(config={"level": "high"}, expected_revision=1)
                ).revision == 2
    infos = [r.event.details["revision"] for r in h.reports()
             if r.event.type == event_pb2.EVENT_TYPE_INFO]
    assert infos == ["1", "2"]  # one INFO per applied change, none for validate_only (C-6)


def test_h22_health_and_shutdown_answer_while_stopping(harness: Harness) -> None:
    shutdown = module_pb2.ShutdownRequest
    assert harness.ok(M, "Shutdown", shutdown()).initiated is True
    assert harness.ok(M, "Shutdown", shutdown()).initiated is False  # changes nothing
    reply = harness.ok(M, "HealthCheck", module_pb2.HealthCheckRequest())
    assert reply.status.state == module_pb2.MODULE_STATE_STOPPING
    harness.fails(E, "ListEntities", entity_pb2.ListEntitiesRequest(), Code.UNAVAILABLE)


def test_h25_a_module_in_error_reports_unhealthy_whatever_it_sets(harness: Harness) -> None:
    status = harness.rt.status
    status.set_health(sdk.Health.DEGRADED, "camera retrying")
    assert status.health is sdk.Health.DEGRADED
    status.transition(ModuleState.ERROR, "camera gone")
    status.set_health(sdk.Health.HEALTHY)  # ignored while ERROR
    reply = harness.ok(M, "HealthCheck", module_pb2.HealthCheckRequest()).status
    assert (reply.health, reply.error_message) == (common_pb2.HEALTH_STATUS_UNHEALTHY,
                                                   "camera gone")


def test_n13_e20_create_answers_configured_then_reports_its_first_status(
    harness: Harness,
) -> None:
    entity = create(harness, "cam", media_type=common_pb2.MEDIA_TYPE_VIDEO).source
    assert entity.status.state == common_pb2.ENTITY_STATE_CONFIGURED
    assert entity.media_type == common_pb2.MEDIA_TYPE_VIDEO  # N-15
    kinds = [r.WhichOneof("report") for r in harness.reports()]
    assert kinds[:2] == ["event", "status"]
    assert harness.reports()[1].status.entity_status.state == common_pb2.ENTITY_STATE_CONFIGURED
    states = [r.status.entity_status.state for r in harness.reports() if r.HasField("status")]
    assert common_pb2.ENTITY_STATE_CREATED not in states


def test_n14_configure_keeps_an_active_entity_active_and_lifts_error(harness: Harness) -> None:
    cam, rec = eid(create(harness, "cam")), eid(create(harness, "rec"))
    harness.ok(P, "ConnectEntities", pipeline_pb2.ConnectEntitiesRequest(
        connection_id="c1", source_entity_id=cam, target_entity_id=rec,
        media_type=common_pb2.MEDIA_TYPE_VIDEO, role=pipeline_pb2.CONNECTION_ROLE_LOCAL))
    harness.ok(P, "StartFlow", pipeline_pb2.StartFlowRequest(flow_id="f", connection_ids=["c1"]))
    configure = entity_pb2.ConfigureEntityRequest
    assert harness.ok(E, "ConfigureEntity", configure(entity_id=cam, config={"mode": "slow"})
                      ).entity.source.status.state == common_pb2.ENTITY_STATE_ACTIVE
    entity = harness.rt.entities.registry.get(cam)
    assert entity is not None
    harness.loop.run(_call(entity.fail, "lens cap on"))
    again = harness.ok(E, "ConfigureEntity", configure(entity_id=cam)).entity.source.status
    assert (again.state, again.error_message) == (common_pb2.ENTITY_STATE_ACTIVE, "")


async def _call(fn: Any, *args: Any) -> None:
    fn(*args)


def test_n16_a_request_id_binds_its_arguments_and_never_re_creates(harness: Harness) -> None:
    request = entity_pb2.CreateEntityRequest
    harness.fails(E, "CreateEntity", request(request_id="r1", entity_type="nope"),
                  Code.INVALID_ARGUMENT)  # a refused call binds nothing:
    first = harness.ok(E, "CreateEntity", request(request_id="r1", entity_type="cam",
                                                  config={"mode": "fast"}))
    assert first.created
    same = harness.ok(E, "CreateEntity", request(request_id="r1", entity_type="cam",
                                                 config={"mode": "fast"}))
    assert not same.created and eid(same.entity) == eid(first.entity)
    assert "other arguments" in harness.fails(E, "CreateEntity", request(
        request_id="r1", entity_type="cam", config={"mode": "slow"}), Code.ALREADY_EXISTS)
    harness.fails(E, "CreateEntity", request(request_id="r" * 129, entity_type="cam"),
                  Code.INVALID_ARGUMENT)  # form first
    harness.ok(E, "DestroyEntity", entity_pb2.DestroyEntityRequest(entity_id=eid(first.entity)))
    assert "destroyed" in harness.fails(E, "CreateEntity", request(
        request_id="r1", entity_type="cam", config={"mode": "fast"}), Code.FAILED_PRECONDITION)


@pytest.mark.parametrize("bad", ["", "Cam-1", "-x", "x" * 129])
def test_n17_a_malformed_id_is_invalid_argument_in_every_call(
    harness: Harness, bad: str
) -> None:
    calls = [
        (E, "DestroyEntity", entity_pb2.DestroyEntityRequest(entity_id=bad)),
        (P, "DisconnectEntities", pipeline_pb2.DisconnectEntitiesRequest(connection_id=bad)),
        (P, "StopFlow", pipeline_pb2.StopFlowRequest(flow_id=bad)),
        (P, "StartFlow", pipeline_pb2.StartFlowRequest(flow_id="f", connection_ids=[bad])),
        (P, "ConnectEntities", pipeline_pb2.ConnectEntitiesRequest(
            connection_id="c", source_entity_id=bad, target_entity_id="rec-1",
            media_type=common_pb2.MEDIA_TYPE_VIDEO, role=pipeline_pb2.CONNECTION_ROLE_TARGET)),
    ]
    for service, method, request in calls:
        harness.fails(service, method, request, Code.INVALID_ARGUMENT)
    # Role SOURCE: the target lives in another module, yet its id is checked too (N-17).
    cam = eid(create(harness, "cam"))
    details = harness.fails(P, "ConnectEntities", pipeline_pb2.ConnectEntitiesRequest(
        connection_id="s", source_entity_id=cam, target_entity_id=bad,
        media_type=common_pb2.MEDIA_TYPE_VIDEO, role=pipeline_pb2.CONNECTION_ROLE_SOURCE,
        endpoint=pipeline_pb2.MediaEndpoint(url="udp://127.0.0.1:5000")), Code.INVALID_ARGUMENT)
    assert "target_entity_id" in details


def test_n18_entity_and_connection_ids_are_reused_module_ids_never(harness: Harness) -> None:
    destroy = entity_pb2.DestroyEntityRequest
    auto = eid(create(harness, "mic"))
    harness.ok(E, "DestroyEntity", destroy(entity_id=auto))
    assert eid(create(harness, "mic")) != auto  # an id the module assigned is not reused
    assert eid(create(harness, "cam", entity_id="door")) == "door"
    assert harness.ok(E, "DestroyEntity", destroy(entity_id="door")).destroyed is True
    assert harness.ok(E, "DestroyEntity", destroy(entity_id="door")).destroyed is False
    assert eid(create(harness, "cam", entity_id="door")) == "door"  # used again
    assert harness.ok(E, "DestroyEntity", destroy(entity_id="door")).destroyed is True


def test_n19_paging_sizes_and_filters(harness: Harness) -> None:
    for _ in range(3):
        create(harness, "mic")
        create(harness, "cam")
    page = entity_pb2.ListEntitiesRequest
    first = harness.ok(E, "ListEntities", page(entity_type="mic", page=common_pb2.PageRequest(
        page_size=2)))
    assert len(first.entities) == 2 and first.next_page_token
    assert "filter" in harness.fails(E, "ListEntities", page(
        entity_type="cam", page=common_pb2.PageRequest(page_token=first.next_page_token)),
        Code.INVALID_ARGUMENT)
    rest = harness.ok(E, "ListEntities", page(entity_type="mic", page=common_pb2.PageRequest(
        page_size=5000, page_token=first.next_page_token)))  # page_size may change
    assert len(rest.entities) == 1 and not rest.next_page_token
    harness.fails(E, "ListEntities", page(page=common_pb2.PageRequest(page_size=-1)),
                  Code.INVALID_ARGUMENT)


def test_n20_the_redaction_written_back_keeps_the_secret(harness: Harness) -> None:
    cam = eid(create(harness, "cam", config={"password": "hunter2", "mode": "fast"}))
    configure = entity_pb2.ConfigureEntityRequest
    back = harness.ok(E, "ConfigureEntity", configure(
        entity_id=cam, replace=True, config={"password": "***", "mode": "slow"})).entity
    assert back.source.config["password"] == "***"
    entity = harness.rt.entities.registry.get(cam)
    assert entity is not None and entity.config["password"] == "hunter2"
    assert "no value in force" in harness.fails(E, "CreateEntity", entity_pb2.CreateEntityRequest(
        entity_type="cam", config={"password": "***"}), Code.INVALID_ARGUMENT)


def test_n13_an_entity_that_failed_in_create_answers_error(make_harness: Any) -> None:
    h: Harness = make_harness(module=make_edge_module())
    status = create(h, "absent").source.status
    assert (status.state, status.error_message) == (common_pb2.ENTITY_STATE_ERROR,
                                                    "no camera at /dev/video9")
    first = h.reports()[1].status.entity_status  # E-20: its first status says it too
    assert (first.state, first.health) == (common_pb2.ENTITY_STATE_ERROR,
                                           common_pb2.HEALTH_STATUS_UNHEALTHY)


def test_n15_a_converter_lists_only_its_media_types_codecs_on_both_sides(
    make_harness: Any,
) -> None:
    h: Harness = make_harness(module=make_edge_module())
    video = create(h, "scale", media_type=common_pb2.MEDIA_TYPE_VIDEO).converter
    audio = create(h, "scale", media_type=common_pb2.MEDIA_TYPE_AUDIO).converter
    assert (list(video.input.supported_codecs), list(video.output.supported_codecs)) == (
        ["h264"], ["hevc"])
    assert (list(audio.input.supported_codecs), list(audio.output.supported_codecs)) == (
        ["aac"], ["mp2"])
    [info] = [t for t in h.ok(M, "HealthCheck", module_pb2.HealthCheckRequest()).entity_types
              if t.type == "scale"]  # C-16: output_capabilities per media type likewise
    assert [list(c.supported_codecs) for c in info.output_capabilities] == [["hevc"], ["mp2"]]


def test_n16_a_repeat_with_another_media_type_is_already_exists(harness: Harness) -> None:
    request = entity_pb2.CreateEntityRequest
    harness.ok(E, "CreateEntity", request(request_id="r1", entity_type="both",
                                          media_type=common_pb2.MEDIA_TYPE_AUDIO))
    harness.fails(E, "CreateEntity", request(request_id="r1", entity_type="both",
                                             media_type=common_pb2.MEDIA_TYPE_VIDEO),
                  Code.ALREADY_EXISTS)


def test_n18_an_id_the_module_assigns_was_never_used_in_this_instance(
    harness: Harness,
) -> None:
    assert eid(create(harness, "mic")) == "mic-1"
    create(harness, "mic", entity_id="mic-2")  # a caller's id in the module's own form
    harness.ok(E, "DestroyEntity", entity_pb2.DestroyEntityRequest(entity_id="mic-2"))
    assert eid(create(harness, "mic")) not in ("mic-1", "mic-2")  # docs/sdk.md, N-18


def test_n19_page_size_0_means_100(harness: Harness) -> None:
    for _ in range(101):
        create(harness, "mic")
    first = harness.ok(E, "ListEntities", entity_pb2.ListEntitiesRequest())
    assert len(first.entities) == 100 and first.next_page_token
    rest = harness.ok(E, "ListEntities", entity_pb2.ListEntitiesRequest(
        page=common_pb2.PageRequest(page_token=first.next_page_token)))
    assert [eid(e) for e in rest.entities] == ["mic-101"] and not rest.next_page_token


def test_n20_the_redaction_is_a_plain_value_for_a_key_that_is_no_secret(
    harness: Harness,
) -> None:
    mic = create(harness, "mic", config={"label": "***"}).source
    assert dict(mic.config) == {"label": "***"}
    entity = harness.rt.entities.registry.get(mic.id)
    assert entity is not None and entity.config == {"label": "***"}


def test_e20_a_status_update_follows_each_change_of_error_message(harness: Harness) -> None:
    mic = eid(create(harness, "mic"))
    entity = harness.rt.entities.registry.get(mic)
    assert entity is not None
    for message in ("input retrying", "input retrying: 3rd attempt"):
        harness.loop.run(_call(entity.set_health, sdk.Health.DEGRADED, message))
    updates = [(r.status.entity_status.health, r.status.entity_status.error_message)
               for r in harness.reports() if r.status.entity_id == mic]
    assert updates[1:] == [(common_pb2.HEALTH_STATUS_DEGRADED, "input retrying"),
                           (common_pb2.HEALTH_STATUS_DEGRADED, "input retrying: 3rd attempt")]
