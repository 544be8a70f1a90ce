"""The suite's own plumbing against real gRPC servers on loopback ports (in this process): the
resource tracker's teardown, a check's context and transcript, the runner's teardown and
order, and the recording EventService. A module that keeps the contract cannot show these
faults, so the runs against real modules would not notice them.

Written by the issue-8 mutation audit (audit-8); each test names the planted bug it catches.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import pytest

from mediagrid.cli import main as cli
from mediagrid.conformance.context import CheckContext, Suite, Target
from mediagrid.conformance.launch import Output
from mediagrid.conformance.recorder import EventRecorder, EventServer
from mediagrid.conformance.registry import Check, CheckFailed, Checks
from mediagrid.conformance.results import RunReport
from mediagrid.conformance.runner import Options, _teardown, order, run_check, run_phases
from mediagrid.conformance.tracker import ResourceTracker
from mediagrid.manifest import load_manifest
from mediagrid.process import free_port
from mediagrid.v1 import (
    entity_pb2,
    entity_pb2_grpc,
    event_pb2,
    event_pb2_grpc,
    pipeline_pb2,
    pipeline_pb2_grpc,
)
from tests.support import ROOT

MANIFEST = load_manifest(ROOT / "simulator" / "mutants" / "modules" / "well-behaved")


class Entities(entity_pb2_grpc.EntityServiceServicer):
    """DestroyEntity of an id starting with 'bad' fails INTERNAL; others are noted."""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def DestroyEntity(self, request, context):  # type: ignore[no-untyped-def]
        auth = dict(context.invocation_metadata() or ()).get("authorization", "")
        self.calls.append(f"destroy {request.entity_id} {auth}".strip())
        if request.entity_id.startswith("bad"):
            await context.abort(grpc.StatusCode.INTERNAL, "cannot destroy it")
        if request.entity_id.startswith("gone"):
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such entity")
        return entity_pb2.DestroyEntityResponse(destroyed=True)


class Pipeline(pipeline_pb2_grpc.PipelineServiceServicer):
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def StopFlow(self, request, context):  # type: ignore[no-untyped-def]
        self.calls.append(f"stop {request.flow_id}")
        return pipeline_pb2.StopFlowResponse()

    async def DisconnectEntities(self, request, context):  # type: ignore[no-untyped-def]
        self.calls.append(f"disconnect {request.connection_id}")
        return pipeline_pb2.DisconnectEntitiesResponse(disconnected=True)


@asynccontextmanager
async def fake_module() -> AsyncIterator[tuple[str, list[str]]]:
    """A gRPC server with the entity and pipeline calls teardown makes; yields its address
    and the calls it received, in order."""
    calls: list[str] = []
    server = grpc.aio.server()
    entity_pb2_grpc.add_EntityServiceServicer_to_server(Entities(calls), server)
    pipeline_pb2_grpc.add_PipelineServiceServicer_to_server(Pipeline(calls), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}", calls
    finally:
        await server.stop(grace=None)


def suite_at(address: str, token: str = "") -> Suite:
    return Suite(Target(MANIFEST, address, False, token), EventRecorder(), None,
                 ResourceTracker())


def test_teardown_is_newest_first_per_check_and_reports_failures() -> None:  # P14, P15
    async def scenario() -> None:
        async with fake_module() as (address, calls):
            tracker = ResourceTracker()
            tracker.add("entity", "e-1", "a")
            tracker.add("connection", "c-1", "a")
            tracker.add("flow", "f-1", "a")
            tracker.add("entity", "bad-2", "b")
            async with grpc.aio.insecure_channel(address) as channel:
                assert await tracker.teardown(channel, "a") == []
                assert calls == ["stop f-1", "disconnect c-1", "destroy e-1"]
                assert [r.id for r in tracker.resources] == ["bad-2"]  # b's stays
                problems = await tracker.teardown(channel)
            assert [str(p) for p in problems] == [
                "teardown of entity bad-2 (made by b) failed: INTERNAL cannot destroy it"]
            assert tracker.resources == [] and tracker.problems == problems
    asyncio.run(scenario())


def test_forget_drops_only_that_resource() -> None:  # P16
    tracker = ResourceTracker()
    for kind, rid in (("entity", "e-1"), ("entity", "e-2"), ("connection", "e-1")):
        tracker.add(kind, rid, "a")
    tracker.forget("entity", "e-1")
    assert [(r.kind, r.id) for r in tracker.resources] == [("entity", "e-2"),
                                                            ("connection", "e-1")]


def test_a_checks_failed_teardown_fails_the_run() -> None:  # P02, P09, P19
    async def makes_an_entity(ctx: CheckContext) -> None:
        ctx.tracker.add("entity", "bad-1", ctx.check.name)

    made = Check("fake.makes_an_entity", ("N-6",), "makes an entity", makes_an_entity)

    async def scenario() -> None:
        async with fake_module() as (address, calls):
            suite = suite_at(address)
            result = await run_check(suite, made)
            assert result.outcome == "pass"
            assert calls == ["destroy bad-1"]  # torn down when the check ended
            assert any(n.startswith("teardown of entity bad-1") for n in result.notes)
            report = RunReport("m", "m.yaml", address, "address", 1, "m", results=[result])
            await _teardown(report, suite)
        assert any("bad-1" in p and "INTERNAL" in p for p in report.teardown_problems)
        assert report.verdict == "fail" and report.exit_code == 1
    asyncio.run(scenario())


def test_a_launch_only_check_is_skipped_in_address_mode_without_running() -> None:  # P13
    family, ran = Checks("fake"), []

    @family.check("H-8", title="stops the module", launch_only=True)
    async def stops_the_module(ctx: CheckContext) -> None:
        ran.append(ctx.check.name)  # in address mode this would stop the user's module

    made = family.items[0]
    assert made.launch_only
    result = asyncio.run(run_check(suite_at(f"127.0.0.1:{free_port()}"), made))
    assert result.outcome == "skip" and "instead of --address" in result.reason
    assert ran == []


def test_transcript_keeps_failed_calls_and_sends_the_token() -> None:  # P24, P26, P18
    async def scenario() -> None:
        async with fake_module() as (address, calls):
            check = Check("fake.x", ("N-6",), "x", lambda ctx: asyncio.sleep(0))
            async with CheckContext(suite_at(address, token="s3cret"), check) as ctx:
                request = entity_pb2.DestroyEntityRequest(entity_id="gone-1")
                await ctx.expect_code(ctx.entities.DestroyEntity, request,
                                      grpc.StatusCode.NOT_FOUND, "N-6", "unknown id",
                                      naming=("entity",))
                with pytest.raises(CheckFailed, match="names 'gone-1'"):
                    await ctx.expect_code(ctx.entities.DestroyEntity, request,
                                          grpc.StatusCode.NOT_FOUND, "N-6", "unknown id",
                                          naming=("gone-1",))
                await ctx.ok(ctx.entities.DestroyEntity, entity_pb2.DestroyEntityRequest(
                    entity_id="e-1"), "N-6", "destroy")
            assert calls[-1] == "destroy e-1 Bearer s3cret"
            assert [c.status for c in ctx.transcript.calls] == ["NOT_FOUND", "NOT_FOUND", "OK"]
            assert ctx.transcript.calls[0].details == "no such entity"
            assert "entity_id" in ctx.transcript.calls[0].tokens
    asyncio.run(scenario())


def test_results_come_back_in_the_seeds_order() -> None:  # P07
    def sleeper(seconds: float):  # type: ignore[no-untyped-def]
        async def function(ctx: CheckContext) -> None:
            await asyncio.sleep(seconds)
        return function

    checks = [Check(f"fake.c{n}", ("N-6",), "c", sleeper(0.02 * (8 - n))) for n in range(8)]
    phases = order(checks, seed=11)
    suite = suite_at(f"127.0.0.1:{free_port()}")
    results = asyncio.run(run_phases(suite, phases, Options(concurrency=8)))
    assert [r.check.name for r in results] == [c.name for phase in phases for c in phase]


def report_with(sequence: int) -> event_pb2.ModuleReport:
    return event_pb2.ModuleReport(header=event_pb2.ReportHeader(
        module_id="m", instance_id="i-1", sequence=sequence), status=event_pb2.StatusUpdate())


def test_recorder_acknowledges_batches_and_deduplicates() -> None:  # P20, P21, P22
    async def scenario() -> None:
        recorder = EventRecorder()
        server = EventServer(recorder)
        await server.start()
        try:
            async with grpc.aio.insecure_channel(server.address) as channel:
                stub = event_pb2_grpc.EventServiceStub(channel)
                first = await stub.ReportBatch(event_pb2.ReportBatchRequest(
                    reports=[report_with(1), report_with(2)]))
                again = await stub.ReportBatch(event_pb2.ReportBatchRequest(
                    reports=[report_with(2), report_with(3), report_with(4)]))
                repeat = await stub.ReportStatus(event_pb2.ReportStatusRequest(
                    header=report_with(4).header, status=event_pb2.StatusUpdate()))
        finally:
            await server.stop()
        assert (first.accepted, first.duplicates) == (2, 0)
        assert (again.accepted, again.duplicates) == (2, 1)
        assert repeat.duplicate
        assert [r.header.sequence for r in recorder.accepted("i-1")] == [1, 2, 3, 4]
        assert [a.outcome for a in recorder.attempts].count("duplicate") == 2
        assert not await recorder.wait_for(lambda: False, within=0.1)
        assert await recorder.wait_for(lambda: True, within=0.1)
    asyncio.run(scenario())


def test_the_event_service_comes_back_while_its_port_is_still_held() -> None:  # P23
    async def scenario() -> None:
        server = EventServer(EventRecorder())
        await server.start()
        await server.drop()
        holder = socket.socket()  # the old socket lingering: the port is taken for a moment
        holder.bind(("127.0.0.1", server.port))
        holder.listen()
        asyncio.get_running_loop().call_later(0.3, holder.close)
        try:
            await server.restore()
            assert server.up
        finally:
            holder.close()
            await server.stop()
    asyncio.run(scenario())


def test_module_output_keeps_lines_split_across_writes() -> None:  # P44
    output = Output(lines=3)
    for chunk in (b"first li", b"ne\nsecond\nthi", b"rd line\npartial"):
        output.write(chunk)
    assert output.text() == "first line\nsecond\nthird line\npartial"
    output.write(b" end\nlast\n")
    assert output.text() == "third line\npartial end\nlast"  # the last 3 lines


def test_an_address_without_a_port_is_invalid_input(capsys: pytest.CaptureFixture[str]) -> None:
    # P45: refused with exit 2 before anything starts, naming the argument
    code = cli(["conformance", "--address", "localhost", "--manifest",
                str(ROOT / "examples" / "python" / "hello")])
    assert code == 2 and "is not HOST:PORT" in capsys.readouterr().err
