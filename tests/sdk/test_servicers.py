"""The generic servicers under grpcio-testing (no sockets): codes, idempotency, paging, events.

grpc_testing has no asyncio support (grpc/grpc#24942); mediagrid.sdk.testing.SyncAdapter runs
each aio servicer coroutine on a loop thread, so the servicers under test are the real ones.
"""

from __future__ import annotations

import socket
import urllib.parse
import uuid

import grpc
import pytest

from mediagrid.sdk.endpoints import target_endpoint
from mediagrid.v1 import common_pb2, config_pb2, entity_pb2, event_pb2, module_pb2, pipeline_pb2
from tests.sdk.conftest import Harness

E, P, M = "EntityService", "PipelineService", "ModuleService"
VIDEO, AUDIO = common_pb2.MEDIA_TYPE_VIDEO, common_pb2.MEDIA_TYPE_AUDIO
LOCAL = pipeline_pb2.CONNECTION_ROLE_LOCAL
Code = grpc.StatusCode


def create(h: Harness, entity_type: str, **kw: object) -> entity_pb2.Entity:
    request = entity_pb2.CreateEntityRequest(entity_type=entity_type, **kw)
    return h.ok(E, "CreateEntity", request).entity


def eid(entity: entity_pb2.Entity) -> str:
    return getattr(entity, entity.WhichOneof("entity")).id


def connect(h: Harness, cid: str, src: str, dst: str, **kw: object) -> pipeline_pb2.Connection:
    request = pipeline_pb2.ConnectEntitiesRequest(
        connection_id=cid, source_entity_id=src, target_entity_id=dst,
        media_type=kw.pop("media_type", VIDEO), role=kw.pop("role", LOCAL), **kw,
    )
    return h.ok(P, "ConnectEntities", request).connection


def event_types(h: Harness) -> list[tuple[int, str, str]]:
    return [(r.event.type, r.event.source_entity_id, r.event.connection_id)
            for r in h.reports() if r.HasField("event")]


def test_health_check_reports_ready_instance_and_types(harness: Harness) -> None:
    reply = harness.ok(M, "HealthCheck", module_pb2.HealthCheckRequest())
    assert reply.status.state == module_pb2.MODULE_STATE_READY
    assert reply.status.health == common_pb2.HEALTH_STATUS_HEALTHY
    assert uuid.UUID(reply.status.instance_id).version == 4
    assert (reply.module_id, reply.version) == ("unit", "1.2.3")
    assert [t.type for t in reply.entity_types] == [
        "cam", "mic", "rec", "both", "vp8rec", "av", "arec"]
    assert reply.entity_types[0].capabilities[0].supported_codecs == ["h264"]


def test_create_reports_entity_created_first_and_redacts_secrets(harness: Harness) -> None:
    entity = create(harness, "cam", name="Front door", config={"password": "hunter2"})
    assert entity.source.id == "cam-1" and entity.source.name == "Front door"
    assert entity.source.config == {"password": "***", "size": "320x240"}  # default filled in
    assert entity.source.status.state == common_pb2.ENTITY_STATE_CONFIGURED
    first = harness.reports()[0]
    assert first.header.sequence == 1
    assert first.event.type == event_pb2.EVENT_TYPE_ENTITY_CREATED
    assert first.event.source_entity_id == "cam-1"


def test_repeated_request_id_returns_the_first_entity(harness: Harness) -> None:
    request = entity_pb2.CreateEntityRequest(request_id="r-1", entity_type="cam")
    first = harness.ok(E, "CreateEntity", request)
    again = harness.ok(E, "CreateEntity", request)
    assert first.created and not again.created
    assert again.entity.source.id == first.entity.source.id
    listed = harness.ok(E, "ListEntities", entity_pb2.ListEntitiesRequest())
    assert len(listed.entities) == 1


@pytest.mark.parametrize(
    ("request_kw", "code", "words"),
    [
        ({"entity_type": "nope"}, Code.INVALID_ARGUMENT,
         ["entity_type", "cam, mic, rec, both, vp8rec"]),
        ({"entity_type": "cam", "config": {"size": "big"}}, Code.INVALID_ARGUMENT,
         ["config.size", "matching"]),
        ({"entity_type": "cam", "config": {"mode": "warp"}}, Code.INVALID_ARGUMENT,
         ["config.mode", "'fast', 'slow'"]),
        ({"entity_type": "cam", "config": {"colour": "red"}}, Code.INVALID_ARGUMENT,
         ["config.colour", "not a known key", "size"]),
        ({"entity_type": "cam", "name": "x" * 257}, Code.INVALID_ARGUMENT, ["name", "256"]),
        ({"entity_type": "cam", "entity_id": "Bad Id"}, Code.INVALID_ARGUMENT, ["entity_id"]),
        ({"entity_type": "cam", "config": {f"k{i}": "v" for i in range(65)}},
         Code.INVALID_ARGUMENT, ["64"]),
        ({"entity_type": "cam", "config": {"size": "1" * 4097}}, Code.INVALID_ARGUMENT,
         ["4096"]),
        ({"entity_type": "cam", "request_id": "r" * 129}, Code.INVALID_ARGUMENT,
         ["request_id"]),
        ({"entity_type": "both"}, Code.INVALID_ARGUMENT, ["media_type is required"]),
        ({"entity_type": "cam", "media_type": AUDIO}, Code.FAILED_PRECONDITION,
         ["cannot carry AUDIO"]),
    ],
)
def test_create_refusals(
    harness: Harness, request_kw: dict[str, object], code: grpc.StatusCode, words: list[str]
) -> None:
    details = harness.fails(E, "CreateEntity", entity_pb2.CreateEntityRequest(**request_kw), code)
    for word in words:
        assert word in details
    assert harness.reports() == []  # nothing reported about a refused entity


def test_configure_merges_replaces_and_keeps_old_config_on_error(harness: Harness) -> None:
    cam = eid(create(harness, "cam", config={"mode": "fast"}))
    merged = harness.ok(E, "ConfigureEntity", entity_pb2.ConfigureEntityRequest(
        entity_id=cam, config={"size": "640x360"})).entity.source.config
    assert merged == {"mode": "fast", "size": "640x360"}
    harness.fails(E, "ConfigureEntity", entity_pb2.ConfigureEntityRequest(
        entity_id=cam, config={"size": "huge"}), Code.INVALID_ARGUMENT)
    replaced = harness.ok(E, "ConfigureEntity", entity_pb2.ConfigureEntityRequest(
        entity_id=cam, config={"mode": "slow"}, replace=True)).entity.source.config
    assert replaced == {"mode": "slow", "size": "320x240"}
    harness.fails(E, "ConfigureEntity", entity_pb2.ConfigureEntityRequest(entity_id="ghost"),
                  Code.NOT_FOUND)


def test_destroy_is_idempotent_for_ids_that_existed(harness: Harness) -> None:
    cam = eid(create(harness, "cam"))
    destroy = entity_pb2.DestroyEntityRequest(entity_id=cam)
    assert harness.ok(E, "DestroyEntity", destroy).destroyed is True
    assert harness.ok(E, "DestroyEntity", destroy).destroyed is False
    harness.fails(E, "DestroyEntity", entity_pb2.DestroyEntityRequest(entity_id="never"),
                  Code.NOT_FOUND)
    harness.fails(E, "GetEntityStatus", entity_pb2.GetEntityStatusRequest(entity_id=cam),
                  Code.NOT_FOUND)


def test_list_pages_in_creation_order_with_opaque_tokens(harness: Harness) -> None:
    ids = [eid(create(harness, "cam" if i % 2 else "rec")) for i in range(5)]
    seen, token = [], ""
    for _ in range(3):
        page = harness.ok(E, "ListEntities", entity_pb2.ListEntitiesRequest(
            page=common_pb2.PageRequest(page_size=2, page_token=token)))
        seen += [eid(e) for e in page.entities]
        token = page.next_page_token
    assert seen == ids and token == ""
    only_cams = harness.ok(E, "ListEntities", entity_pb2.ListEntitiesRequest(entity_type="cam"))
    assert [eid(e) for e in only_cams.entities] == ids[1::2]
    harness.fails(E, "ListEntities", entity_pb2.ListEntitiesRequest(
        page=common_pb2.PageRequest(page_token="garbage")), Code.INVALID_ARGUMENT)


def test_calls_are_unavailable_unless_ready(make_harness) -> None:  # type: ignore[no-untyped-def]
    h = make_harness(ready=False)
    assert h.ok(M, "HealthCheck", module_pb2.HealthCheckRequest()).status.state == \
        module_pb2.MODULE_STATE_STARTING
    for service, method, request in [
        (E, "CreateEntity", entity_pb2.CreateEntityRequest(entity_type="cam")),
        (E, "ListEntities", entity_pb2.ListEntitiesRequest()),
        (E, "GetEntityStatus", entity_pb2.GetEntityStatusRequest(entity_id="cam-1")),
        (P, "StartFlow", pipeline_pb2.StartFlowRequest(flow_id="f", connection_ids=["c"])),
    ]:
        assert "not READY" in h.fails(service, method, request, Code.UNAVAILABLE)


def test_shutdown_is_idempotent_and_stops_entity_calls(harness: Harness) -> None:
    first = harness.ok(M, "Shutdown", module_pb2.ShutdownRequest(reason="test"))
    again = harness.ok(M, "Shutdown", module_pb2.ShutdownRequest())
    assert (first.initiated, again.initiated) == (True, False)
    assert harness.shutdowns[0] == (5.0, "test")
    status = harness.ok(M, "HealthCheck", module_pb2.HealthCheckRequest()).status
    assert status.state == module_pb2.MODULE_STATE_STOPPING
    harness.fails(E, "ListEntities", entity_pb2.ListEntitiesRequest(), Code.UNAVAILABLE)


def test_connect_checks_and_idempotency(harness: Harness) -> None:
    cam, rec, mic = (eid(create(harness, t)) for t in ("cam", "rec", "mic"))
    first = connect(harness, "c1", cam, rec)
    assert first.transport_protocol == "local"
    assert connect(harness, "c1", cam, rec) == first  # same arguments: same connection
    request = pipeline_pb2.ConnectEntitiesRequest
    cases = [
        (request(connection_id="c1", source_entity_id=cam, target_entity_id=rec,
                 media_type=VIDEO, role=LOCAL,
                 quality=common_pb2.QualityProfile(bitrate=1)), Code.ALREADY_EXISTS),
        (request(connection_id="c2", source_entity_id=mic, target_entity_id=rec,
                 media_type=VIDEO, role=LOCAL), Code.FAILED_PRECONDITION),
        (request(connection_id="c2", source_entity_id=rec, target_entity_id=cam,
                 media_type=VIDEO, role=LOCAL), Code.FAILED_PRECONDITION),
        (request(connection_id="c2", source_entity_id="ghost", target_entity_id=rec,
                 media_type=VIDEO, role=LOCAL), Code.NOT_FOUND),
        (request(connection_id="c2", source_entity_id=cam, target_entity_id=rec,
                 media_type=VIDEO), Code.INVALID_ARGUMENT),
        (request(connection_id="c2", source_entity_id=cam, target_entity_id=rec,
                 role=LOCAL), Code.INVALID_ARGUMENT),
        (request(connection_id="c2", source_entity_id=cam, target_entity_id="x",
                 media_type=VIDEO, role=pipeline_pb2.CONNECTION_ROLE_SOURCE),
         Code.INVALID_ARGUMENT),
        (request(connection_id="c2", source_entity_id="x", target_entity_id=rec,
                 media_type=VIDEO, role=pipeline_pb2.CONNECTION_ROLE_TARGET,
                 transport_protocol="srt"), Code.FAILED_PRECONDITION),
    ]
    for req, code in cases:
        harness.fails(P, "ConnectEntities", req, code)


def test_target_role_returns_a_udp_endpoint(harness: Harness) -> None:
    rec = eid(create(harness, "rec"))
    conn = connect(harness, "x1", "cam-elsewhere", rec, role=pipeline_pb2.CONNECTION_ROLE_TARGET,
                   source_module_id="other")
    assert conn.endpoint.transport == "mpegts-udp"
    assert conn.endpoint.url.startswith("udp://127.0.0.1:")
    assert conn.endpoint.url.endswith("?pkt_size=1316")


@pytest.mark.parametrize(("transport", "scheme", "kind"), [
    ("mpegts-udp", "udp", socket.SOCK_DGRAM),
    ("mpegts-tcp", "tcp", socket.SOCK_STREAM),
    ("srt", "srt", socket.SOCK_DGRAM),
])
def test_target_endpoint_url_matches_its_transport(transport: str, scheme: str, kind: int) -> None:
    endpoint = target_endpoint(transport, "127.0.0.1")
    url = urllib.parse.urlsplit(endpoint.url)
    assert (endpoint.transport, url.scheme, url.hostname) == (transport, scheme, "127.0.0.1")
    listen = urllib.parse.urlsplit(endpoint.listen_url)  # S-10: listens on the bind host only
    assert (listen.scheme, listen.hostname, listen.port) == (scheme, "127.0.0.1", url.port)
    with socket.socket(socket.AF_INET, kind) as sock:  # the port was free for that protocol
        sock.bind(("127.0.0.1", url.port))


def test_an_unknown_transport_is_invalid_argument(harness: Harness) -> None:
    rec = eid(create(harness, "rec"))
    details = harness.fails(P, "ConnectEntities", pipeline_pb2.ConnectEntitiesRequest(
        connection_id="x2", source_entity_id="cam-elsewhere", target_entity_id=rec,
        media_type=VIDEO, role=pipeline_pb2.CONNECTION_ROLE_TARGET,
        transport_protocol="webrtc"), Code.INVALID_ARGUMENT)
    assert "mpegts-udp, mpegts-tcp, srt" in details


def test_flow_lifecycle_and_event_order(harness: Harness) -> None:
    cam, rec = eid(create(harness, "cam")), eid(create(harness, "rec"))
    connect(harness, "c1", cam, rec)
    harness.fails(P, "StartFlow", pipeline_pb2.StartFlowRequest(
        flow_id="f1", connection_ids=["c404"]), Code.NOT_FOUND)
    flow = harness.ok(P, "StartFlow", pipeline_pb2.StartFlowRequest(
        flow_id="f1", connection_ids=["c1"])).flow
    assert flow.status.state == pipeline_pb2.FLOW_STATE_INITIALIZING  # no media measured yet
    assert harness.rt.entities.registry.get(cam).started == 1  # type: ignore[union-attr]
    status = harness.ok(E, "GetEntityStatus", entity_pb2.GetEntityStatusRequest(entity_id=rec))
    assert status.status.state == common_pb2.ENTITY_STATE_ACTIVE
    adjust = pipeline_pb2.AdjustQualityRequest
    harness.ok(P, "AdjustQuality", adjust(flow_id="f1", quality=common_pb2.QualityProfile(
        bitrate=800_000, video_codec="h264")))
    [conn] = harness.ok(P, "AdjustQuality", adjust(flow_id="f1", quality=common_pb2.QualityProfile(
        framerate=15))).connections  # zero fields keep their value (P-9)
    assert (conn.quality.bitrate, conn.quality.framerate, conn.quality.video_codec) == (
        800_000, 15, "h264")
    stop = pipeline_pb2.StopFlowRequest(flow_id="f1")
    assert harness.ok(P, "StopFlow", stop).stopped is True
    assert harness.ok(P, "StopFlow", stop).stopped is False
    harness.fails(P, "StopFlow", pipeline_pb2.StopFlowRequest(flow_id="f404"), Code.NOT_FOUND)
    harness.fails(P, "StartFlow", pipeline_pb2.StartFlowRequest(
        flow_id="f1", connection_ids=["c1"]), Code.FAILED_PRECONDITION)
    link = harness.rt.pipeline.links.get("c1")
    assert link is not None and not link._tasks  # the sink's spawned task was cancelled
    types = [t for t, _, _ in event_types(harness)]
    assert types.index(event_pb2.EVENT_TYPE_CONNECTION_CREATED) < \
        types.index(event_pb2.EVENT_TYPE_FLOW_STARTED) < \
        types.index(event_pb2.EVENT_TYPE_FLOW_STOPPED)


def test_destroy_removes_connections_and_nothing_follows(harness: Harness) -> None:
    cam, rec = eid(create(harness, "cam")), eid(create(harness, "rec"))
    connect(harness, "c1", cam, rec)
    harness.ok(P, "StartFlow", pipeline_pb2.StartFlowRequest(flow_id="f1", connection_ids=["c1"]))
    harness.ok(E, "DestroyEntity", entity_pb2.DestroyEntityRequest(entity_id=rec))
    disconnect = pipeline_pb2.DisconnectEntitiesRequest(connection_id="c1")
    assert harness.ok(P, "DisconnectEntities", disconnect).disconnected is False
    harness.fails(P, "DisconnectEntities", pipeline_pb2.DisconnectEntitiesRequest(
        connection_id="c404"), Code.NOT_FOUND)
    reports = harness.reports()
    destroyed = next(i for i, r in enumerate(reports)
                     if r.event.type == event_pb2.EVENT_TYPE_ENTITY_DESTROYED)
    removed = next(i for i, r in enumerate(reports)
                   if r.event.type == event_pb2.EVENT_TYPE_CONNECTION_REMOVED)
    assert removed < destroyed
    about_rec = [i for i, r in enumerate(reports)
                 if (r.event.source_entity_id or r.status.entity_id or r.metrics.entity_id) == rec]
    assert about_rec[-1] == destroyed
    assert [r.header.sequence for r in reports] == list(range(1, len(reports) + 1))


def test_configurable_module(make_harness) -> None:  # type: ignore[no-untyped-def]
    h = make_harness(configurable=True)
    C = "ConfigurableModuleService"
    assert '"level"' in h.ok(C, "GetConfigSchema", config_pb2.GetConfigSchemaRequest()).json_schema
    applied = h.ok(C, "ApplyConfig", config_pb2.ApplyConfigRequest(
        config={"level": "low", "secret": "s3"}))
    assert (dict(applied.config), applied.revision) == (
        {"level": "low", "secret": "***", "region": "eu"}, 1)
    details = h.fails(C, "ApplyConfig", config_pb2.ApplyConfigRequest(config={"level": "max"}),
                      Code.INVALID_ARGUMENT)
    assert "config.level" in details
    h.fails(C, "ApplyConfig", config_pb2.ApplyConfigRequest(
        config={"level": "high"}, expected_revision=7), Code.ABORTED)
    h.ok(C, "ApplyConfig", config_pb2.ApplyConfigRequest(config={"level": "high"},
                                                        validate_only=True))
    assert h.ok(C, "GetConfig", config_pb2.GetConfigRequest()).revision == 1
