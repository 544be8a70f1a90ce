"""The event reporter against a real grpc.aio EventService that fails on command.

Backoff delays go through an injected sleep and a fixed random source, so they are exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest

from mediagrid import sdk
from mediagrid.backoff import REPORT_RETRY
from mediagrid.sdk.reporter import metric_value
from mediagrid.v1 import common_pb2, event_pb2
from tests.sdk.event_server import EventServer, Recorder
from tests.support import eventually, free_port


class Sleeps:
    """Records each backoff delay; runs `on_sleep` (e.g. restart the server) and yields."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.on_sleep: Callable[[int], Awaitable[None]] | None = None

    async def __call__(self, delay: float) -> None:
        self.delays.append(round(delay, 6))
        if self.on_sleep is not None:
            await self.on_sleep(len(self.delays))
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(**kw: Any) -> AsyncIterator[tuple[sdk.EventReporter, EventServer, Sleeps]]:
    server = EventServer(free_port(), kw.pop("recorder", None))
    await server.start()
    sleeps = Sleeps()
    sender = sdk.GrpcReportSender(server.address, token=kw.pop("token", ""), timeout=2)
    reporter = sdk.EventReporter(
        "mod", "inst-1", sender=sender, sleep=sleeps,
        backoff=sdk.Backoff(dataclasses.replace(REPORT_RETRY, jitter=0)), **kw,
    )
    task = asyncio.create_task(reporter.run())
    try:
        yield reporter, server, sleeps
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await sender.close()
        await server.stop()


def info(reporter: sdk.EventReporter, n: int) -> None:
    for i in range(n):
        reporter.event(event_pb2.EVENT_TYPE_INFO, f"report {i}")


def test_each_report_is_sent_at_once_and_queued_ones_batched() -> None:
    async def scenario() -> None:
        async with running() as (reporter, server, _):
            reporter.event(event_pb2.EVENT_TYPE_INFO, "alone")
            assert await reporter.flush(5)
            info(reporter, 5)  # made before the sender runs again: one batch
            assert await reporter.flush(5)
            reporter.metrics({"fps": metric_value(25.0)})
            assert await reporter.flush(5)
            assert server.recorder.calls == ["event", "batch", "metrics"]
            assert server.recorder.sequences == [1, 2, 3, 4, 5, 6, 7]

    asyncio.run(scenario())


def test_e10_a_batch_holds_at_most_500_contiguous_reports() -> None:
    async def scenario() -> None:
        async with running() as (reporter, server, _):
            info(reporter, 1201)  # all queued before the sender runs
            assert await reporter.flush(10)
            assert server.recorder.calls == ["batch", "batch", "batch"]  # 500, 500, 201
            assert server.recorder.sequences == list(range(1, 1202))

    asyncio.run(scenario())


def test_e24_s5_batches_stay_under_4_mib_and_a_report_too_big_is_dropped_and_declared() -> None:
    """Big reports: batches are cut under gRPC's 4 MiB (the server refuses more, and the same
    batch would be retried for ever); one report over 4 MiB - 64 KiB is never accepted, so
    it is dropped when made and declared (E-22), and the queue moves on."""
    big = "x" * 100_000

    async def scenario() -> None:
        async with running() as (reporter, server, sleeps):
            for i in range(100):  # ~10 MB made before the sender runs: three batches or more
                reporter.event(event_pb2.EVENT_TYPE_INFO, f"{i} {big}")
            assert await reporter.flush(20)
            assert server.recorder.sequences == list(range(1, 101))
            assert len(server.recorder.calls) >= 3 and sleeps.delays == []
            reporter.event(event_pb2.EVENT_TYPE_INFO, "y" * (4 * 1024 * 1024))  # 101
            reporter.event(event_pb2.EVENT_TYPE_INFO, "after")  # 103, after the WARNING
            assert await reporter.flush(10)
            assert server.recorder.sequences[100:] == [102, 103]
            warning = server.recorder.accepted[100].event
            assert warning.type == event_pb2.EVENT_TYPE_WARNING
            assert dict(warning.details) == {"dropped_reports": "1", "first_dropped": "101",
                                             "last_dropped": "101"}
            assert reporter.stats.dropped == 1

    asyncio.run(scenario())


def test_failed_sends_are_retried_with_the_same_sequence_and_backoff() -> None:
    async def scenario() -> None:
        async with running() as (reporter, server, sleeps):
            server.recorder.fail_next = 5
            info(reporter, 1)
            await asyncio.sleep(0)
            info(reporter, 19)
            assert await reporter.flush(10)
            assert server.recorder.sequences == list(range(1, 21))  # exactly once, in order
            assert sleeps.delays == [0.05, 0.1, 0.2, 0.4, 0.8]  # 50 ms x2 (no jitter here)
            assert reporter.stats.failures == 5 and reporter.stats.dropped == 0
            info(reporter, 1)
            server.recorder.fail_next = 1
            assert await reporter.flush(10)
            assert sleeps.delays[-1] == 0.05  # a success resets the backoff

    asyncio.run(scenario())


def test_server_down_then_back_on_the_same_port_delivers_everything_once() -> None:
    async def scenario() -> None:
        async with running() as (reporter, server, sleeps):
            await server.stop()

            async def maybe_restart(attempt: int) -> None:
                if attempt == 3:
                    await server.start()

            sleeps.on_sleep = maybe_restart
            info(reporter, 30)
            assert await reporter.flush(15)
            assert server.recorder.sequences == list(range(1, 31))
            assert sleeps.delays[:3] == [0.05, 0.1, 0.2]

    asyncio.run(scenario())


def test_buffer_drops_oldest_counts_and_warns_when_sending_resumes() -> None:
    async def scenario() -> None:
        async with running(capacity=5) as (reporter, server, sleeps):
            await server.stop()
            restart, failing = asyncio.Event(), asyncio.Event()

            async def wait_for_restart(attempt: int) -> None:
                if attempt >= 2:
                    failing.set()
                    await restart.wait()

            sleeps.on_sleep = wait_for_restart
            info(reporter, 1)
            await failing.wait()  # the sender has failed twice and waits in its backoff
            info(reporter, 11)
            assert reporter.stats.dropped == 7 and reporter.queued == 5
            await server.start()
            restart.set()
            assert await reporter.flush(15)
            assert server.recorder.sequences == [8, 9, 10, 11, 12, 13]
            warning = server.recorder.accepted[-1].event
            assert warning.type == event_pb2.EVENT_TYPE_WARNING
            assert warning.severity == event_pb2.EVENT_SEVERITY_WARNING
            assert warning.details["dropped_reports"] == "7"  # E-22: the gap, declared
            assert (warning.details["first_dropped"], warning.details["last_dropped"]) == (
                "1", "7")

    asyncio.run(scenario())


def test_standalone_keeps_the_newest_reports() -> None:
    reporter = sdk.EventReporter("mod", "inst", capacity=3)
    info(reporter, 10)
    assert [r.header.sequence for r in reporter._queue] == [8, 9, 10]
    assert reporter.stats.dropped == 7


def test_token_is_sent_with_every_report() -> None:
    async def scenario() -> None:
        async with running(token="s3cret") as (reporter, server, _):
            server.recorder.token = "s3cret"
            info(reporter, 3)
            assert await reporter.flush(5)
            assert set(server.recorder.metadata_seen) == {"Bearer s3cret"}

    asyncio.run(scenario())


def test_ordering_rules_are_enforced_when_reports_are_made() -> None:
    reporter = sdk.EventReporter("mod", "inst")
    status = common_pb2.EntityStatus()
    with pytest.raises(sdk.ReportOrderError, match="before ENTITY_CREATED"):
        reporter.status("cam-1", status)
    reporter.event(event_pb2.EVENT_TYPE_ENTITY_CREATED, entity_id="cam-1")
    reporter.status("cam-1", status)
    with pytest.raises(sdk.ReportOrderError, match="CONNECTION_CREATED of c1, c2"):
        reporter.flow_started("f1", ["c1", "c2"])
    reporter.event(event_pb2.EVENT_TYPE_CONNECTION_CREATED, entity_id="cam-1", connection_id="c1")
    reporter.event(event_pb2.EVENT_TYPE_CONNECTION_CREATED, entity_id="cam-1", connection_id="c2")
    reporter.flow_started("f1", ["c1", "c2"])
    reporter.event(event_pb2.EVENT_TYPE_ENTITY_DESTROYED, entity_id="cam-1")
    with pytest.raises(sdk.ReportOrderError, match="after ENTITY_DESTROYED"):
        reporter.metrics({"fps": metric_value(1.0)}, entity_id="cam-1")
    assert reporter.sequence == 6


def test_timestamps_never_go_backwards() -> None:
    times = iter([100.0, 99.0, 101.5, 50.0])
    reporter = sdk.EventReporter("mod", "inst", clock=lambda: next(times))
    info(reporter, 4)
    stamps = [r.event.timestamp.ToNanoseconds() / 1e9 for r in reporter._queue]
    assert stamps == [100.0, 100.0, 101.5, 101.5]


@pytest.mark.parametrize("code", [grpc.StatusCode.INVALID_ARGUMENT,
                                  grpc.StatusCode.FAILED_PRECONDITION])
def test_e23_a_refused_report_is_dropped_and_declared_not_retried_forever(
    code: grpc.StatusCode,
) -> None:
    async def scenario() -> None:
        async with running() as (reporter, server, sleeps):
            server.recorder.fail_next, server.recorder.fail_code = 1, code
            info(reporter, 1)  # refused for good: dropped, not retried
            await eventually(lambda: reporter.stats.dropped == 1)
            info(reporter, 2)  # the queue moves on
            assert await reporter.flush(5)
            assert server.recorder.sequences == [2, 3, 4]
            assert sleeps.delays == []  # no backoff: nothing was retried
            warning = server.recorder.accepted[-1].event
            assert warning.type == event_pb2.EVENT_TYPE_WARNING
            assert dict(warning.details) == {"dropped_reports": "1", "first_dropped": "1",
                                             "last_dropped": "1"}

    asyncio.run(scenario())


def test_e23_every_report_call_carries_a_deadline() -> None:
    async def scenario() -> None:
        async with running() as (reporter, server, _):
            info(reporter, 1)
            await asyncio.sleep(0)
            info(reporter, 3)
            assert await reporter.flush(5)
            assert server.recorder.calls == ["event", "batch"]
            assert all(d is not None and 0 < d < 3 for d in server.recorder.deadlines)  # 2 s

    asyncio.run(scenario())


def test_e23_a_retried_batch_may_grow_from_the_lowest_unacknowledged() -> None:
    async def scenario() -> None:
        async with running() as (reporter, server, sleeps):
            server.recorder.fail_next = 1
            grown = asyncio.Event()

            async def add_more(attempt: int) -> None:
                info(reporter, 3)  # made while the first call waits to be retried
                grown.set()

            sleeps.on_sleep = add_more
            info(reporter, 1)
            await grown.wait()
            assert await reporter.flush(5)
            assert server.recorder.calls == ["event", "batch"]  # 1, then 1..4 in one call
            assert server.recorder.sequences == [1, 2, 3, 4]

    asyncio.run(scenario())


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAUTHENTICATED,
                                  grpc.StatusCode.RESOURCE_EXHAUSTED])
def test_e23_other_failures_are_retried_not_dropped(code: grpc.StatusCode) -> None:
    async def scenario() -> None:
        async with running() as (reporter, server, sleeps):
            server.recorder.fail_next, server.recorder.fail_code = 1, code
            info(reporter, 1)
            assert await reporter.flush(5)
            assert server.recorder.sequences == [1]  # delivered on the retry
            assert sleeps.delays == [0.05] and reporter.stats.dropped == 0

    asyncio.run(scenario())


class HeldRecorder(Recorder):
    """Holds the first call until the test lets it go, so reports pile up while it is in
    flight."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight, self.release = asyncio.Event(), asyncio.Event()

    async def _take(self, context: Any, kind: str, reports: list[Any]) -> tuple[int, int]:
        self.in_flight.set()
        await self.release.wait()
        return await super()._take(context, kind, reports)


def test_e22_a_report_dropped_from_the_buffer_in_flight_but_delivered_is_no_gap() -> None:
    async def scenario() -> None:
        recorder = HeldRecorder()
        async with running(capacity=5, recorder=recorder) as (reporter, server, _):
            info(reporter, 1)
            await recorder.in_flight.wait()  # report 1 is on the wire
            info(reporter, 7)  # 8 made, 5 fit: 1 (in flight), 2 and 3 leave the buffer
            recorder.release.set()
            assert await reporter.flush(10)
            delivered = server.recorder.sequences
            declared = [(int(d["first_dropped"]), int(d["last_dropped"]))
                        for d in (r.event.details for r in server.recorder.accepted)
                        if "first_dropped" in d]
            gaps = sorted(set(range(1, max(delivered) + 1)) - set(delivered))
            covered = sorted(n for first, last in declared for n in range(first, last + 1))
            # 1 arrived after all; 2 and 3 were dropped, and 4 too, to make room for the
            # WARNING declaring them (the buffer was full): each gap declared once, no other.
            assert delivered[0] == 1 and covered == gaps == [2, 3, 4]

    asyncio.run(scenario())
