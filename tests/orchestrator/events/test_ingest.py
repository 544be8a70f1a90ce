"""EventService at the orchestrator: every report once, durable before it is acknowledged.

Rule E-4: a report is accepted only when its sequence is above the highest accepted for its
instance; a repeat is acknowledged as a duplicate and not delivered again, also after the
bus was restarted on the same state file. Gaps are counted, never fatal.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import grpc

from mediagrid.v1 import event_pb2, orchestrator_pb2
from tests.orchestrator.events.harness import (
    Stream,
    bus_server,
    connected,
    event_stub,
    report,
    reporter,
    rpc_error,
    send,
    sequences,
)
from tests.support import eventually


def rows_in_file(state: Path) -> list[tuple[str, int]]:
    """What another connection finds in the state file right now."""
    with sqlite3.connect(state) as conn:
        return conn.execute(
            "SELECT instance_id, sequence FROM event_log ORDER BY position").fetchall()


def test_e4_repeats_are_acknowledged_as_duplicates_and_delivered_once(state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (bus, channel):
            stream = Stream.open(channel, since_cursor="",
                                 filter=orchestrator_pb2.EventFilter(include_status=True))
            await stream.until_bookmark()
            first = await send(channel, [report(s) for s in range(1, 11)])
            assert (first.accepted, first.duplicates) == (10, 0)
            again = await send(channel, [report(s) for s in range(1, 11)])
            assert (again.accepted, again.duplicates) == (0, 10)
            overlap = await send(channel, [report(s) for s in range(5, 16)])
            assert (overlap.accepted, overlap.duplicates) == (5, 6)
            single = await event_stub(channel).ReportEvent(event_pb2.ReportEventRequest(
                header=report(3).header, event=report(3).event))
            assert single.duplicate is True
            fresh = await event_stub(channel).ReportStatus(event_pb2.ReportStatusRequest(
                header=report(16).header,
                status=event_pb2.StatusUpdate(module_id="mod", entity_id="cam")))
            assert fresh.duplicate is False
            got = await stream.envelopes(16)
            assert sequences(got) == list(range(1, 17))
            # the other instance of the same module has its own numbering
            other = await send(channel, [report(1, instance="inst-2")])
            assert other.accepted == 1
            (extra,) = await stream.envelopes(1)
            assert extra.report.header.instance_id == "inst-2"
            assert bus.stats().duplicates == 17

    asyncio.run(scenario())


def test_e4_repeats_are_recognised_after_the_bus_restarts_on_the_same_file(
        state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (_, channel):
            assert (await send(channel, [report(s) for s in range(1, 6)])).accepted == 5
        async with connected(state) as (bus, channel):
            again = await send(channel, [report(s) for s in range(1, 8)])
            assert (again.accepted, again.duplicates) == (2, 5)
            stream = Stream.open(channel, since_cursor="0")
            assert sequences(await stream.until_bookmark()) == [1, 2, 3, 4, 5, 6, 7]
            assert bus.stats().accepted == 2

    asyncio.run(scenario())


def test_e4_an_acknowledged_report_is_already_in_the_file(state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (_, channel):
            for seq in range(1, 4):
                await send(channel, [report(seq)])
                # read by another connection the moment the call returns: committed
                assert rows_in_file(state)[-1] == ("inst-1", seq)

    asyncio.run(scenario())


def test_e4_a_lost_acknowledgement_is_retried_by_the_sdk_and_dropped_as_a_duplicate(
        state: Path) -> None:
    """The SDK reporter's call reaches the bus, but its answer is lost (the connection
    drops): the reporter retries the same sequences, the bus drops them as repeats."""
    from mediagrid import sdk

    class LosesFirstAnswers(sdk.GrpcReportSender):
        lost = 0

        async def send(self, reports: list[event_pb2.ModuleReport]) -> None:
            await super().send(reports)
            if self.lost < 2:
                self.lost += 1
                raise ConnectionError("answer lost")

    async def scenario() -> None:
        async with bus_server(state) as (bus, address), \
                grpc.aio.insecure_channel(address) as channel:
            sender = LosesFirstAnswers(address)
            async with reporter(address, sender=sender) as rep:
                for i in range(30):
                    rep.event(event_pb2.EVENT_TYPE_INFO, f"event {i}")
                assert await rep.flush(20)
            assert sender.lost == 2
            assert bus.stats().duplicates >= 2
            stream = Stream.open(channel, since_cursor="0")
            assert sequences(await stream.until_bookmark()) == list(range(1, 31))

    asyncio.run(scenario())


def test_e24_gaps_are_accepted_counted_and_kept_in_the_state_file(state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (bus, channel):
            await send(channel, [report(1)])
            await send(channel, [report(5), report(6)])  # 2, 3, 4 dropped by the module (E-5)
            await send(channel, [report(9, instance="inst-2")])  # first seen at 9: 8 missing
            assert (bus.stats().gaps, bus.stats().undeclared_gaps) == (3 + 8, 3 + 8)
            declaration = report(7, type=event_pb2.EVENT_TYPE_WARNING, details={
                "dropped_reports": "3", "first_dropped": "2", "last_dropped": "4"})
            await send(channel, [declaration])  # rule E-22: inst-1 owns up to its three
            assert (bus.stats().gaps, bus.stats().undeclared_gaps) == (11, 8)
            assert (await send(channel, [report(4)])).duplicates == 1  # below the mark
        async with connected(state) as (bus, channel):
            assert (bus.stats().gaps, bus.stats().undeclared_gaps) == (11, 8)
            stream = Stream.open(channel, since_cursor="0")
            assert sequences(await stream.until_bookmark()) == [1, 5, 6, 9, 7]

    asyncio.run(scenario())


def test_e24_a_call_never_acceptable_is_invalid_argument_and_writes_nothing(
        state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (bus, channel):
            await send(channel, [report(1)])
            no_instance = report(2)
            no_instance.header.instance_id = ""
            empty = event_pb2.ModuleReport()
            empty.header.module_id, empty.header.instance_id, empty.header.sequence = "m", "i", 1
            too_big = report(2)  # under gRPC's 4 MiB, but its envelope would not be (S-5)
            too_big.event.message = "x" * (4 * 1024 * 1024 - 32 * 1024)
            cases = {  # rule E-24
                "a report may have": [too_big],
                "instance_id": [report(2), no_instance],
                "sequence must be 1 or more": [report(0)],
                "no event, status or metrics": [empty],
                "ascending and contiguous": [report(3), report(2)],
                "follows 2;": [report(2), report(4)],  # a gap inside a batch
                "one module instance": [report(2), report(3, instance="inst-2")],
                "at most 500": [report(s) for s in range(2, 503)],
                "at least one report": [],
            }
            for words, reports in cases.items():
                error = await rpc_error(send(channel, reports))
                assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, words
                assert words in error.details(), error.details()
            single = await rpc_error(event_stub(channel).ReportMetrics(
                event_pb2.ReportMetricsRequest(header=report(2).header)))
            assert single.code() is grpc.StatusCode.INVALID_ARGUMENT
            assert rows_in_file(state) == [("inst-1", 1)]
            assert (await send(channel, [report(2)])).accepted == 1  # nothing was lost
            assert bus.stats().accepted == 2

    asyncio.run(scenario())


def test_e24_at_the_edges_a_batch_of_500_is_taken_and_a_gap_of_one_is_counted(
        state: Path) -> None:
    """The boundaries the test above stays away from: exactly 500 reports (the most E-10
    allows) are accepted, and one lost sequence number is a gap of one."""
    async def scenario() -> None:
        async with connected(state) as (bus, channel):
            answer = await send(channel, [report(s) for s in range(1, 501)])
            assert (answer.accepted, answer.duplicates) == (500, 0)
            await send(channel, [report(502)])  # 501 never came
            assert (bus.stats().gaps, bus.stats().undeclared_gaps) == (1, 1)

    asyncio.run(scenario())


def test_e24_calls_after_close_are_unavailable_so_the_module_retries(state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (bus, channel):
            await bus.close()
            error = await rpc_error(send(channel, [report(1)]))
            assert error.code() is grpc.StatusCode.UNAVAILABLE
            assert rows_in_file(state) == []

    asyncio.run(scenario())


def test_concurrent_calls_of_many_reporters_are_all_written_once(state: Path) -> None:
    """Ten SDK reporters at once: group commit must keep each call's answer its own."""
    async def scenario() -> None:
        async with bus_server(state) as (bus, address):
            async with asyncio.TaskGroup() as tg:
                for m in range(10):
                    tg.create_task(report_from(address, f"mod-{m}", 120))
            await eventually(lambda: bus.stats().accepted == 1200)
            assert bus.stats().duplicates == 0
            by_instance: dict[str, list[int]] = {}
            for iid, seq in rows_in_file(state):
                by_instance.setdefault(iid, []).append(seq)
            assert {k: v for k, v in by_instance.items()} == {
                f"mod-{m}-i": list(range(1, 121)) for m in range(10)}

    async def report_from(address: str, module: str, n: int) -> None:
        async with reporter(address, module, f"{module}-i") as rep:
            for i in range(n):
                rep.event(event_pb2.EVENT_TYPE_INFO, f"{i}")
                if i % 7 == 0:
                    await asyncio.sleep(0)
            assert await rep.flush(20)

    asyncio.run(scenario())


def test_e17_publish_writes_the_orchestrators_own_envelope_before_returning(
        state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (bus, channel):
            stream = await Stream.live(channel)
            first = await bus.publish("camera-1", event_pb2.Event(
                type=event_pb2.EVENT_TYPE_MODULE_STATE_CHANGED, message="STARTING -> READY",
                details={"old_state": "STARTING", "new_state": "READY"}))
            assert rows_in_file(state) == [(bus.orchestrator_instance_id, 1)]
            second = await bus.publish("camera-1", event_pb2.Event(
                type=event_pb2.EVENT_TYPE_MODULE_RESTARTED))
            h = first.report.header
            assert (h.module_id, h.instance_id, h.sequence) == (
                "camera-1", bus.orchestrator_instance_id, 1)
            assert second.report.header.sequence == 2
            e = first.report.event
            assert e.source_module_id == "camera-1" and e.id and e.timestamp.seconds
            assert e.details["new_state"] == "READY"
            assert list(await stream.envelopes(2)) == [first, second]
            old_instance = bus.orchestrator_instance_id
        async with bus_server(state) as (bus, _):
            assert bus.orchestrator_instance_id != old_instance  # new for each start
            again = await bus.publish("camera-1", event_pb2.Event(
                type=event_pb2.EVENT_TYPE_MODULE_RESTARTED))
            assert again.report.header.sequence == 1 and again.cursor > second.cursor

    asyncio.run(scenario())
