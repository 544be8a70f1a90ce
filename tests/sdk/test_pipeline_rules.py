"""Connection and flow rules (P-*) that test_servicers.py does not reach; the flow states are
driven by a hand-moved clock, so the stall rule is exact."""

from __future__ import annotations

from typing import Any

import grpc

from mediagrid.v1 import common_pb2, entity_pb2, event_pb2, module_pb2, pipeline_pb2
from tests.sdk.conftest import FakeClock, Harness
from tests.sdk.modules import make_edge_module
from tests.sdk.test_servicers import connect, create, eid

P = "PipelineService"
Code = grpc.StatusCode
VIDEO, AUDIO = common_pb2.MEDIA_TYPE_VIDEO, common_pb2.MEDIA_TYPE_AUDIO
LOCAL = pipeline_pb2.CONNECTION_ROLE_LOCAL
TARGET, SOURCE = pipeline_pb2.CONNECTION_ROLE_TARGET, pipeline_pb2.CONNECTION_ROLE_SOURCE
INITIALIZING, ACTIVE, ERROR = (pipeline_pb2.FLOW_STATE_INITIALIZING,
                               pipeline_pb2.FLOW_STATE_ACTIVE, pipeline_pb2.FLOW_STATE_ERROR)


def start(h: Harness, flow_id: str, *connection_ids: str) -> pipeline_pb2.Flow:
    return h.ok(P, "StartFlow", pipeline_pb2.StartFlowRequest(
        flow_id=flow_id, connection_ids=connection_ids)).flow


def flow_status(h: Harness, flow_id: str) -> pipeline_pb2.FlowStatus:
    return h.ok(P, "GetFlowStatus", pipeline_pb2.GetFlowStatusRequest(flow_id=flow_id)).flow.status


def measure(h: Harness, connection_id: str, **values: Any) -> None:
    link = h.rt.pipeline.links.get(connection_id)
    assert link is not None
    h.loop.run(_call(link.update_metrics, **values))


async def _call(fn: Any, **kw: Any) -> None:
    fn(**kw)


def test_p3_a_codec_the_target_cannot_take_is_failed_precondition(harness: Harness) -> None:
    cam, rec, vp8 = (eid(create(harness, t)) for t in ("cam", "rec", "vp8rec"))
    request = pipeline_pb2.ConnectEntitiesRequest
    details = harness.fails(P, "ConnectEntities", request(
        connection_id="c1", source_entity_id=cam, target_entity_id=rec, media_type=VIDEO,
        role=pipeline_pb2.CONNECTION_ROLE_LOCAL,
        quality=common_pb2.QualityProfile(video_codec="hevc")), Code.FAILED_PRECONDITION)
    assert "hevc" in details and "h264" in details
    details = harness.fails(P, "ConnectEntities", request(
        connection_id="c2", source_entity_id=cam, target_entity_id=vp8, media_type=VIDEO,
        role=pipeline_pb2.CONNECTION_ROLE_LOCAL), Code.FAILED_PRECONDITION)
    assert "produces h264" in details and "takes vp8" in details


def test_p3_only_the_quality_field_of_the_connections_media_type_applies(
    harness: Harness,
) -> None:
    av, arec = eid(create(harness, "av", media_type=AUDIO)), eid(create(harness, "arec"))
    # An AUDIO link: video_codec is ignored, so h264 (a codec of the av type) cannot sneak in
    # as an audio codec, and a video codec the target does not take is no obstacle.
    connect(harness, "a1", av, arec, media_type=AUDIO,
            quality=common_pb2.QualityProfile(video_codec="h264", audio_codec="aac"))
    details = harness.fails(P, "ConnectEntities", pipeline_pb2.ConnectEntitiesRequest(
        connection_id="a2", source_entity_id=av, target_entity_id=arec, media_type=AUDIO,
        role=LOCAL, quality=common_pb2.QualityProfile(audio_codec="h264")),
        Code.FAILED_PRECONDITION)
    assert "takes codecs aac, opus" in details
    info = harness.ok("ModuleService", "HealthCheck", module_pb2.HealthCheckRequest())
    caps = {c.media_type: list(c.supported_codecs)
            for t in info.entity_types if t.type == "av" for c in t.capabilities}
    assert caps == {VIDEO: ["h264"], AUDIO: ["aac"]}  # N-15, C-16: per media type


def test_p15_a_source_never_transcodes_and_mpegts_codecs_only_cross_modules(
    harness: Harness,
) -> None:
    av, rec = eid(create(harness, "av", media_type=VIDEO)), eid(create(harness, "rec"))
    request = pipeline_pb2.ConnectEntitiesRequest
    details = harness.fails(P, "ConnectEntities", request(  # SOURCE side checks its codec
        connection_id="s1", source_entity_id=av, target_entity_id="far", media_type=VIDEO,
        role=SOURCE, endpoint=pipeline_pb2.MediaEndpoint(url="udp://127.0.0.1:5000"),
        quality=common_pb2.QualityProfile(video_codec="hevc")), Code.FAILED_PRECONDITION)
    assert "produces h264" in details and "does not transcode" in details
    details = harness.fails(P, "ConnectEntities", request(  # a target that takes any codec
        connection_id="t1", source_entity_id="far", target_entity_id=eid(create(
            harness, "both", media_type=VIDEO)), media_type=VIDEO, role=TARGET,
        quality=common_pb2.QualityProfile(video_codec="vp8")), Code.FAILED_PRECONDITION)
    assert "LOCAL connections only" in details  # "both" lists no transport (P-16)
    connect(harness, "t2", "far", rec, role=TARGET,
            quality=common_pb2.QualityProfile(video_codec="h264"))


def test_p16_transports_endpoints_and_local_links(harness: Harness) -> None:
    av, rec, vp8 = (eid(create(harness, t, **kw)) for t, kw in (
        ("av", {"media_type": VIDEO}), ("rec", {}), ("vp8rec", {})))
    request = pipeline_pb2.ConnectEntitiesRequest
    source = {"connection_id": "s1", "source_entity_id": av, "target_entity_id": "far",
              "media_type": VIDEO, "role": SOURCE}
    bad = [
        (pipeline_pb2.MediaEndpoint(url="udp://127.0.0.1:5000", transport="rtp"),
         Code.INVALID_ARGUMENT, "not a transport"),
        (pipeline_pb2.MediaEndpoint(url="tcp://127.0.0.1:5000"), Code.INVALID_ARGUMENT,
         "not a mpegts-udp endpoint"),
        (pipeline_pb2.MediaEndpoint(url="udp://127.0.0.1"), Code.INVALID_ARGUMENT, "udp://HOST"),
        (pipeline_pb2.MediaEndpoint(url="udp://127.0.0.1:0"), Code.INVALID_ARGUMENT, "PORT"),
        (pipeline_pb2.MediaEndpoint(url="udp://bad_host:5000"), Code.INVALID_ARGUMENT,
         "udp://HOST"),
        (pipeline_pb2.MediaEndpoint(url="tcp://127.0.0.1:5000", transport="mpegts-tcp"),
         Code.FAILED_PRECONDITION, "speaks mpegts-udp, srt"),
    ]
    for endpoint, code, words in bad:
        assert words in harness.fails(P, "ConnectEntities", request(**source, endpoint=endpoint),
                                      code)
    ok = connect(harness, "s2", av, "far", role=SOURCE, endpoint=pipeline_pb2.MediaEndpoint(
        url="srt://127.0.0.1:5000?mode=caller", transport="srt"))
    assert ok.transport_protocol == "srt"
    details = harness.fails(P, "ConnectEntities", request(
        connection_id="t1", source_entity_id="far", target_entity_id=vp8, media_type=VIDEO,
        role=TARGET), Code.FAILED_PRECONDITION)
    assert "protocols" in details
    local = connect(harness, "l1", av, rec, transport_protocol="srt",
                    endpoint=pipeline_pb2.MediaEndpoint(url="nonsense"))  # both ignored
    assert local.transport_protocol == "local" and not local.HasField("endpoint")


def test_p17_the_target_endpoint_names_the_advertised_host_and_the_format(
    make_harness: Any,
) -> None:
    h: Harness = make_harness()
    h.rt.advertise_host = "cams.example"
    rec = eid(create(h, "rec"))
    conn = connect(h, "t1", "far", rec, role=TARGET,
                   quality=common_pb2.QualityProfile(video_codec="h264"))
    assert conn.endpoint.url.startswith("udp://cams.example:")
    assert (conn.endpoint.format.container, conn.endpoint.format.video_codec) == (
        "mpegts", "h264")
    link = h.rt.pipeline.links.get("t1")
    assert link is not None and link.endpoint is not None
    port = conn.endpoint.url.split(":")[2].split("?")[0]
    assert link.endpoint.listen_url.startswith(  # S-10: listens on the bind host only
        f"udp://127.0.0.1:{port}?localaddr=127.0.0.1&")


def test_p18_the_same_arguments_of_connect(harness: Harness) -> None:
    rec = eid(create(harness, "rec"))
    first = connect(harness, "t1", "far", rec, role=TARGET, source_module_id="a")
    again = connect(harness, "t1", "far", rec, role=TARGET, transport_protocol="mpegts-udp",
                    source_module_id="b", endpoint=pipeline_pb2.MediaEndpoint(url="x"))
    assert again.endpoint.url == first.endpoint.url  # "" = mpegts-udp; the rest not compared
    harness.fails(P, "ConnectEntities", pipeline_pb2.ConnectEntitiesRequest(
        connection_id="t1", source_entity_id="far", target_entity_id=rec, media_type=VIDEO,
        role=TARGET, quality=common_pb2.QualityProfile(bitrate=5)), Code.ALREADY_EXISTS)


def test_p5_one_source_feeds_several_connections(harness: Harness) -> None:
    cam, rec1, rec2 = (eid(create(harness, t)) for t in ("cam", "rec", "rec"))
    connect(harness, "c1", cam, rec1)
    connect(harness, "c2", cam, rec2)
    start(harness, "f1", "c1")
    start(harness, "f2", "c2")
    entity = harness.rt.entities.registry.get(cam)
    assert entity is not None and entity.started == 2  # type: ignore[attr-defined]
    assert sorted(entity.links) == ["c1", "c2"]


def test_p7_disconnect_is_idempotent(harness: Harness) -> None:
    connect(harness, "c1", eid(create(harness, "cam")), eid(create(harness, "rec")))
    disconnect = pipeline_pb2.DisconnectEntitiesRequest(connection_id="c1")
    assert harness.ok(P, "DisconnectEntities", disconnect).disconnected is True
    assert harness.ok(P, "DisconnectEntities", disconnect).disconnected is False


def test_p8_flow_ids(harness: Harness) -> None:
    cam, rec = eid(create(harness, "cam")), eid(create(harness, "rec"))
    connect(harness, "c1", cam, rec)
    connect(harness, "c2", cam, eid(create(harness, "rec")))
    harness.fails(P, "GetFlowStatus", pipeline_pb2.GetFlowStatusRequest(flow_id="f404"),
                  Code.NOT_FOUND)
    first = start(harness, "f1", "c1")
    assert start(harness, "f1", "c1").created_at == first.created_at  # the running flow
    harness.fails(P, "StartFlow", pipeline_pb2.StartFlowRequest(
        flow_id="f1", connection_ids=["c2"]), Code.ALREADY_EXISTS)
    entity = harness.rt.entities.registry.get(cam)
    assert entity is not None and entity.started == 1  # type: ignore[attr-defined]


def test_p9_p20_an_entity_without_quality_support_refuses(harness: Harness) -> None:
    both, rec = eid(create(harness, "both", media_type=VIDEO)), eid(create(harness, "rec"))
    connect(harness, "c1", both, rec)
    start(harness, "f1", "c1")
    harness.fails(P, "AdjustQuality", pipeline_pb2.AdjustQualityRequest(flow_id="f1"),
                  Code.FAILED_PRECONDITION)


def test_p20_adjust_quality_codes_and_the_target_only_side(harness: Harness) -> None:
    cam, rec = eid(create(harness, "cam")), eid(create(harness, "rec"))
    connect(harness, "c1", cam, rec)
    connect(harness, "c2", cam, eid(create(harness, "rec")))
    connect(harness, "x1", "far", eid(create(harness, "rec")), role=TARGET)
    start(harness, "f1", "c1")
    start(harness, "fx", "x1")
    adjust = pipeline_pb2.AdjustQualityRequest
    harness.fails(P, "AdjustQuality", adjust(flow_id="nope"), Code.NOT_FOUND)
    harness.fails(P, "AdjustQuality", adjust(flow_id="f1", connection_id="c2"), Code.NOT_FOUND)
    harness.fails(P, "AdjustQuality", adjust(flow_id="f1", connection_id="C2"),
                  Code.INVALID_ARGUMENT)
    harness.fails(P, "AdjustQuality", adjust(  # a codec the target does not take
        flow_id="f1", quality=common_pb2.QualityProfile(video_codec="hevc", bitrate=9)),
        Code.FAILED_PRECONDITION)
    link = harness.rt.pipeline.links.get("c1")
    assert link is not None and link.quality.bitrate == 0  # a refused call changes nothing
    # A target-only side records the quality and answers OK; its media follows the stream.
    [conn] = harness.ok(P, "AdjustQuality", adjust(
        flow_id="fx", quality=common_pb2.QualityProfile(bitrate=300_000))).connections
    assert conn.quality.bitrate == 300_000
    harness.ok(P, "StopFlow", pipeline_pb2.StopFlowRequest(flow_id="f1"))
    harness.fails(P, "AdjustQuality", adjust(flow_id="f1"), Code.FAILED_PRECONDITION)


def test_p19_start_flow_names_each_connection_once_in_a_fixed_order(harness: Harness) -> None:
    cam = eid(create(harness, "cam"))
    connect(harness, "c1", cam, eid(create(harness, "rec")))
    connect(harness, "c2", cam, eid(create(harness, "rec")))
    request = pipeline_pb2.StartFlowRequest
    assert "repeats" in harness.fails(P, "StartFlow", request(
        flow_id="f1", connection_ids=["c1", "c1"]), Code.INVALID_ARGUMENT)
    start(harness, "f1", "c1", "c2")
    harness.fails(P, "StartFlow", request(flow_id="f1", connection_ids=["c2", "c1"]),
                  Code.ALREADY_EXISTS)
    details = harness.fails(P, "StartFlow", request(flow_id="f2", connection_ids=["c2"]),
                            Code.FAILED_PRECONDITION)
    assert "'f1'" in details  # a connection runs in one flow at a time


def test_p10_p11_a_flow_is_active_only_while_media_is_measured(make_harness: Any) -> None:
    clock = FakeClock()
    h: Harness = make_harness(clock=clock)
    cam, rec, rec2 = (eid(create(h, t)) for t in ("cam", "rec", "rec"))
    connect(h, "c1", cam, rec)
    connect(h, "c2", cam, rec2)
    flow = start(h, "f1", "c1", "c2")
    assert flow.status.state == INITIALIZING
    assert (flow.status.latency_ms, flow.status.bandwidth_usage) == (-1, 0)  # nothing measured
    measure(h, "c1", frames=10, fps=25.0)
    assert flow_status(h, "f1").state == INITIALIZING  # not the last connection
    measure(h, "c2", frames=10, fps=25.0, bitrate_bps=400_000)
    status = flow_status(h, "f1")
    assert (status.state, status.bandwidth_usage) == (ACTIVE, 400_000)
    clock.now += 5.0
    measure(h, "c2", frames=10, fps=25.0)  # no new frames: not moving
    assert flow_status(h, "f1").state == ACTIVE  # exactly at the stall limit
    clock.now += 0.1
    status = flow_status(h, "f1")
    assert status.state == ERROR and "stalled" in status.error_message and "c2" in \
        status.error_message
    assert h.reports()[-1].event.type == event_pb2.EVENT_TYPE_ERROR
    measure(h, "c2", frames=11)
    assert flow_status(h, "f1").state == ACTIVE  # ERROR -> ACTIVE when media moves again


def test_p14_removing_a_connection_under_a_running_flow_turns_it_error(
    make_harness: Any,
) -> None:
    h: Harness = make_harness()
    cam, rec = eid(create(h, "cam")), eid(create(h, "rec"))
    connect(h, "c1", cam, rec)
    start(h, "f1", "c1")
    measure(h, "c1", frames=5)
    assert flow_status(h, "f1").state == ACTIVE
    h.ok(P, "DisconnectEntities", pipeline_pb2.DisconnectEntitiesRequest(connection_id="c1"))
    status = flow_status(h, "f1")
    assert status.state == ERROR and "'c1'" in status.error_message


def test_p21_a_flow_with_no_media_within_the_start_period_turns_error(
    make_harness: Any,
) -> None:
    clock = FakeClock()
    h: Harness = make_harness(clock=clock)
    cam, rec = eid(create(h, "cam")), eid(create(h, "rec"))
    connect(h, "c1", cam, rec)
    start(h, "f1", "c1")
    clock.now += 10.0
    h.rt.flows.settle(h.rt.flows.flows["f1"])  # what watch() does every half second
    assert flow_status(h, "f1").state == INITIALIZING  # exactly at the start period
    clock.now += 0.1
    for _ in range(3):  # watch() keeps settling a flow that stays ERROR
        h.rt.flows.settle(h.rt.flows.flows["f1"])
    status = flow_status(h, "f1")
    assert status.state == ERROR and "no media arrived" in status.error_message
    errors = [r.event for r in h.reports() if r.event.type == event_pb2.EVENT_TYPE_ERROR]
    assert len(errors) == 1 and errors[0].flow_id == "f1"  # E-19: one per turn to ERROR
    # E-21: an ERROR about a connection names this module's end and gives both ends
    assert (errors[0].connection_id, errors[0].source_entity_id) == ("c1", rec)
    assert dict(errors[0].details) == {"source_entity_id": cam, "target_entity_id": rec}
    measure(h, "c1", frames=3)
    assert flow_status(h, "f1").state == ACTIVE  # media later: ACTIVE


def test_p22_frames_without_new_bytes_are_not_media_moving(make_harness: Any) -> None:
    clock = FakeClock()
    h: Harness = make_harness(clock=clock)
    connect(h, "c1", eid(create(h, "cam")), eid(create(h, "rec")))
    start(h, "f1", "c1")
    measure(h, "c1", frames=50, bytes_moved=10_000)
    assert flow_status(h, "f1").state == ACTIVE
    clock.now += 5.0
    measure(h, "c1", frames=62, bytes_moved=10_000)  # a decoder flush at its receive timeout
    clock.now += 0.1
    assert flow_status(h, "f1").state == ERROR  # stalled all the same
    measure(h, "c1", frames=63, bytes_moved=10_188)
    assert flow_status(h, "f1").state == ACTIVE


def test_e21_connection_events_name_this_modules_end_and_both_ends(harness: Harness) -> None:
    rec = eid(create(harness, "rec"))
    connect(harness, "t1", "far", rec, role=TARGET)
    harness.ok(P, "DisconnectEntities", pipeline_pb2.DisconnectEntitiesRequest(connection_id="t1"))
    events = [r.event for r in harness.reports() if r.event.connection_id == "t1"]
    assert [e.type for e in events] == [event_pb2.EVENT_TYPE_CONNECTION_CREATED,
                                        event_pb2.EVENT_TYPE_CONNECTION_REMOVED]
    for e in events:
        assert e.source_entity_id == rec and e.source_module_id == "unit"
        assert dict(e.details) == {"source_entity_id": "far", "target_entity_id": rec}


def test_n14_an_entity_stays_active_while_its_flow_runs_whatever_its_connection(
    harness: Harness,
) -> None:
    cam, rec = eid(create(harness, "cam")), eid(create(harness, "rec"))
    connect(harness, "c1", cam, rec)
    start(harness, "f1", "c1")
    link, entity = harness.rt.pipeline.links.get("c1"), harness.rt.entities.registry.get(cam)
    assert link is not None and entity is not None
    harness.loop.run(_call(link.fail, message="receiver died"))  # the connection failed
    harness.loop.run(_call(entity.fail, message="lens cap on"))
    status = harness.ok("EntityService", "ConfigureEntity", entity_pb2.ConfigureEntityRequest(
        entity_id=cam)).entity.source.status  # leaves ERROR: its flow still runs
    assert status.state == common_pb2.ENTITY_STATE_ACTIVE


def test_p15_a_codec_mpegts_cannot_carry_never_crosses_modules(make_harness: Any) -> None:
    h: Harness = make_harness(module=make_edge_module())
    sink = eid(create(h, "anysink"))  # takes any codec
    details = h.fails(P, "ConnectEntities", pipeline_pb2.ConnectEntitiesRequest(
        connection_id="t1", source_entity_id="far", target_entity_id=sink, media_type=VIDEO,
        role=TARGET, quality=common_pb2.QualityProfile(video_codec="vp8")),
        Code.FAILED_PRECONDITION)
    assert "vp8" in details and "mpegts-udp" in details
    connect(h, "t2", "far", sink, role=TARGET,
            quality=common_pb2.QualityProfile(video_codec="hevc"))


def test_p17_an_audio_endpoint_names_its_codec_as_audio(harness: Harness) -> None:
    arec = eid(create(harness, "arec"))
    conn = connect(harness, "t1", "far", arec, role=TARGET, media_type=AUDIO,
                   quality=common_pb2.QualityProfile(audio_codec="opus"))
    assert (conn.endpoint.format.audio_codec, conn.endpoint.format.video_codec) == ("opus", "")


def test_p18_a_source_repeat_compares_the_endpoint_url(harness: Harness) -> None:
    av = eid(create(harness, "av", media_type=VIDEO))
    first = pipeline_pb2.MediaEndpoint(url="udp://127.0.0.1:5000?pkt_size=1316")
    connect(harness, "s1", av, "far", role=SOURCE, endpoint=first)
    same = pipeline_pb2.MediaEndpoint(  # "" = mpegts-udp; format is not compared
        url=first.url, transport="mpegts-udp", format=common_pb2.MediaFormat(container="mpegts"))
    connect(harness, "s1", av, "far", role=SOURCE, endpoint=same)
    harness.fails(P, "ConnectEntities", pipeline_pb2.ConnectEntitiesRequest(
        connection_id="s1", source_entity_id=av, target_entity_id="far", media_type=VIDEO,
        role=SOURCE, endpoint=pipeline_pb2.MediaEndpoint(url="udp://127.0.0.1:5001")),
        Code.ALREADY_EXISTS)


def test_p20_a_refused_adjust_changes_no_connection_of_the_flow(harness: Harness) -> None:
    connect(harness, "c1", eid(create(harness, "cam")), eid(create(harness, "rec")))
    connect(harness, "c2", eid(create(harness, "av", media_type=AUDIO)),
            eid(create(harness, "arec")), media_type=AUDIO)
    start(harness, "f1", "c1", "c2")
    harness.fails(P, "AdjustQuality", pipeline_pb2.AdjustQualityRequest(  # av sends aac only
        flow_id="f1", quality=common_pb2.QualityProfile(
            video_codec="h264", audio_codec="opus", bitrate=9)), Code.FAILED_PRECONDITION)
    for cid in ("c1", "c2"):
        link = harness.rt.pipeline.links.get(cid)
        assert link is not None and link.quality.bitrate == 0, cid


def test_p20_an_entity_that_cannot_adjust_refuses_before_any_connection_changes(
    harness: Harness,
) -> None:
    """A real bug the audit found next to M25: the flow's first connection was adjusted (and
    QUALITY_CHANGED reported) before the second's entity refused, so the refused call changed
    something."""
    connect(harness, "c1", eid(create(harness, "cam")), eid(create(harness, "rec")))
    connect(harness, "c2", eid(create(harness, "both", media_type=VIDEO)),
            eid(create(harness, "rec")))
    start(harness, "f1", "c1", "c2")
    details = harness.fails(P, "AdjustQuality", pipeline_pb2.AdjustQualityRequest(
        flow_id="f1", quality=common_pb2.QualityProfile(bitrate=9)), Code.FAILED_PRECONDITION)
    assert "'c2'" in details and "cannot change quality" in details
    link = harness.rt.pipeline.links.get("c1")
    assert link is not None and link.quality.bitrate == 0
    assert event_pb2.EVENT_TYPE_QUALITY_CHANGED not in [r.event.type for r in harness.reports()]
