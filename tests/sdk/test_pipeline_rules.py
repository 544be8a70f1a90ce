"""Connection and flow rules (P-*) that test_servicers.py does not reach; the flow states are
driven by a hand-moved clock, so the stall rule is exact."""

from __future__ import annotations

from typing import Any

import grpc

from mediagrid.v1 import common_pb2, event_pb2, pipeline_pb2
from tests.sdk.conftest import FakeClock, Harness
from tests.sdk.test_servicers import connect, create, eid

P = "PipelineService"
Code = grpc.StatusCode
VIDEO = common_pb2.MEDIA_TYPE_VIDEO
TARGET = pipeline_pb2.CONNECTION_ROLE_TARGET
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
        quality=common_pb2.QualityProfile(video_codec="vp8")), Code.FAILED_PRECONDITION)
    assert "vp8" in details and "h264" in details
    details = harness.fails(P, "ConnectEntities", request(
        connection_id="c2", source_entity_id=cam, target_entity_id=vp8, media_type=VIDEO,
        role=pipeline_pb2.CONNECTION_ROLE_LOCAL), Code.FAILED_PRECONDITION)
    assert "produces h264" in details and "takes vp8" in details
    connect(harness, "c3", "elsewhere", vp8, role=TARGET,
            quality=common_pb2.QualityProfile(video_codec="vp8"))


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


def test_p9_an_entity_without_quality_support_refuses(harness: Harness) -> None:
    rec = eid(create(harness, "rec"))
    connect(harness, "x1", "elsewhere", rec, role=TARGET)
    start(harness, "f1", "x1")
    harness.fails(P, "AdjustQuality", pipeline_pb2.AdjustQualityRequest(flow_id="f1"),
                  Code.FAILED_PRECONDITION)


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
