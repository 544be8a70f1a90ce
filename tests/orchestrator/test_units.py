"""The pure parts: the desired-state store across a reopen (H-15), flow ordering (P-12), the
health verdicts (H-13), flow status merging."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mediagrid.reference.orchestrator.broker.flows import downstream_first, merge, part_id
from mediagrid.reference.orchestrator.desired_state import (
    ConnectionRecord,
    DesiredState,
    EntityRecord,
    FlowRecord,
)
from mediagrid.reference.orchestrator.health import (
    DEGRADED,
    HEALTHY,
    UNHEALTHY,
    CheckResult,
    HealthJudge,
)
from mediagrid.v1 import common_pb2, module_pb2, pipeline_pb2

VIDEO = common_pb2.MEDIA_TYPE_VIDEO


def conn(cid: str, source: str, target: str) -> ConnectionRecord:
    return ConnectionRecord(cid, source, f"{cid}-s", target, f"{cid}-t", VIDEO,
                            common_pb2.QualityProfile())


def test_h15_the_store_keeps_everything_across_a_reopen_in_creation_order(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"

    async def first() -> None:
        store = await DesiredState.open(path)
        for n in (3, 1, 2):
            await store.put_entity(EntityRecord("m", f"e{n}", "thing", "", VIDEO,
                                                {"k": str(n)}, f"req-{n}"))
        await store.set_entity_config("m", "e1", {"k": "changed", "password": "real"})
        await store.remove_entity("m", "e2")
        endpoint = pipeline_pb2.MediaEndpoint(transport="mpegts-udp", url="udp://h:1")
        await store.put_connection(conn("c1", "m", "n"))
        await store.set_endpoint("c1", endpoint)
        await store.put_connection(conn("c2", "m", "m"))
        await store.remove_connection("c2")
        await store.put_flow(FlowRecord("f1", "one", ("c1",), {"n": "f1", "m": "f1--2"}, 2))
        await store.put_flow(FlowRecord("f2", "two", ("c1",), {}, 1, stopped=True))
        await store.close()

    async def second() -> None:
        store = await DesiredState.open(path)
        try:
            assert [(e.entity_id, e.config, e.request_id) for e in await store.entities("m")] \
                == [("e3", {"k": "3"}, "req-3"),
                    ("e1", {"k": "changed", "password": "real"}, "req-1")]
            removed = await store.entity("m", "e2")
            assert removed is not None and removed.removed
            await store.put_entity(EntityRecord("m", "e2", "thing", "", VIDEO, {}))
            assert [e.entity_id for e in await store.entities("m")] == ["e3", "e1", "e2"]
            (c1,) = await store.connections("n")
            assert c1.endpoint is not None and c1.endpoint.url == "udp://h:1"
            assert [c.connection_id for c in await store.connections()] == ["c1"]
            c2 = await store.connection("c2")
            assert c2 is not None and c2.removed
            assert [f.flow_id for f in await store.flows()] == ["f1"]  # f2 is stopped
            f1 = await store.flow("f1")
            assert f1 is not None and f1.parts == {"m": "f1--2", "n": "f1"}
        finally:
            await store.close()

    asyncio.run(first())
    asyncio.run(second())


def test_p12_modules_of_a_flow_from_the_sinks_upstream() -> None:
    # camera module -> transcoder module -> recorder module, and the camera also feeds a
    # local preview: the recorder starts first, the camera's module last.
    chain = [conn("a", "camera", "transcoder"), conn("b", "transcoder", "recorder")]
    assert downstream_first(chain) == ["recorder", "transcoder", "camera"]
    assert list(reversed(downstream_first(chain))) == ["camera", "transcoder", "recorder"]
    assert downstream_first([conn("l", "one", "one")]) == ["one"]
    assert part_id("flow", 1) == "flow" and part_id("flow", 3) == "flow--3"
    assert len(part_id("x" * 128, 12)) <= 128


def test_h13_one_failure_degraded_threshold_unhealthy_one_good_check_healthy() -> None:
    judge = HealthJudge(failure_threshold=3)
    bad, good = CheckResult(None, "no answer"), CheckResult(module_pb2.HealthCheckResponse())
    assert [judge.judge(bad) for _ in range(4)] == [DEGRADED, DEGRADED, UNHEALTHY, UNHEALTHY]
    assert judge.judge(good) == HEALTHY and judge.failures == 0
    assert judge.judge(bad) == DEGRADED


def test_a_merged_flow_is_as_bad_as_its_worst_part_and_measured_at_its_end() -> None:
    record = FlowRecord("f", "f", ("a", "b"), {"camera": "f", "recorder": "f"})
    connections = [conn("a", "camera", "camera"), conn("b", "camera", "recorder")]

    def part(state: int, *links: tuple[str, int]) -> pipeline_pb2.Flow:
        flow = pipeline_pb2.Flow(id="f")
        flow.status.state = state
        for cid, frames in links:
            flow.connections.add(id=cid).metrics.frames = frames
        return flow

    active = pipeline_pb2.FLOW_STATE_ACTIVE
    merged = merge(record, connections, {"camera": part(active, ("a", 10), ("b", 7)),
                                         "recorder": part(active, ("b", 5))})
    assert merged.status.state == active
    assert [c.id for c in merged.connections] == ["a", "b"]
    assert merged.metrics.frames == 5  # the target's module measures arrival
    broken = merge(record, connections, {"camera": part(active, ("a", 1)),
                                         "recorder": "module 'recorder' is STARTING"})
    assert broken.status.state == pipeline_pb2.FLOW_STATE_ERROR
    assert "recorder" in broken.status.error_message
