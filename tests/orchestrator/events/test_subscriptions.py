"""Subscriptions: filters, batching, bookmarks, lag, the subscriber limit, shutdown
(rules E-14, E-15, E-16, E-18, S-7)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc

from mediagrid.reference.orchestrator.events import EventSettings, ManualTimer
from mediagrid.v1 import common_pb2, event_pb2, orchestrator_pb2
from tests.orchestrator.events.harness import (
    STALLED,
    Stream,
    bus_server,
    connected,
    reporter,
    send,
    sequences,
)
from tests.orchestrator.events.harness import report as make_report
from tests.support import eventually

E = event_pb2
Filter = orchestrator_pb2.EventFilter


def mixed_reports() -> list[event_pb2.ModuleReport]:
    """Events of two modules, with entities, flows and severities, plus status and metrics."""
    reports = [
        make_report(1, "a-1", "a", type=E.EVENT_TYPE_ENTITY_CREATED, source_entity_id="cam"),
        make_report(1, "b-1", "b", type=E.EVENT_TYPE_ENTITY_CREATED, source_entity_id="cam"),
        make_report(2, "a-1", "a", type=E.EVENT_TYPE_FLOW_STARTED, flow_id="f1"),
        make_report(3, "a-1", "a", type=E.EVENT_TYPE_ERROR, severity=E.EVENT_SEVERITY_ERROR,
                    source_entity_id="cam", flow_id="f1"),
        make_report(2, "b-1", "b", type=E.EVENT_TYPE_WARNING,
                    severity=E.EVENT_SEVERITY_WARNING),
    ]
    status = E.ModuleReport(status=E.StatusUpdate(module_id="a", entity_id="cam"))
    status.header.module_id, status.header.instance_id, status.header.sequence = "a", "a-1", 4
    metrics = E.ModuleReport(metrics=E.Metrics(module_id="a", entity_id="cam", flow_id="f1"))
    metrics.metrics.metrics["fps"].CopyFrom(common_pb2.MetricValue(double_value=25.0))
    metrics.header.module_id, metrics.header.instance_id, metrics.header.sequence = "a", "a-1", 5
    return [*reports, status, metrics]


def described(envelopes: list[orchestrator_pb2.EventEnvelope]) -> list[str]:
    return [f"{e.report.header.module_id}{e.report.header.sequence}" for e in envelopes]


FILTER_CASES = {
    "events of every module (the default)": (Filter(), ["a1", "b1", "a2", "a3", "b2"]),
    "one module": (Filter(module_ids=["b"]), ["b1", "b2"]),
    "event types": (Filter(event_types=[E.EVENT_TYPE_ENTITY_CREATED, E.EVENT_TYPE_WARNING]),
                    ["a1", "b1", "b2"]),
    "an entity": (Filter(entity_id="cam"), ["a1", "b1", "a3"]),
    "a flow, with metrics": (Filter(flow_id="f1", include_metrics=True), ["a2", "a3", "a5"]),
    "minimum severity": (Filter(min_severity=E.EVENT_SEVERITY_WARNING), ["a3", "b2"]),
    "status and metrics too": (Filter(module_ids=["a"], include_status=True,
                                      include_metrics=True), ["a1", "a2", "a3", "a4", "a5"]),
    "type filter leaves status alone": (Filter(event_types=[E.EVENT_TYPE_ERROR],
                                               include_status=True), ["a3", "a4"]),
}


def test_e18_filters_select_the_same_envelopes_live_and_from_the_log(state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (_, channel):
            live = {name: Stream.open(channel, filter=f) for name, (f, _) in FILTER_CASES.items()}
            for stream in live.values():
                await stream.until_bookmark()
            for r in mixed_reports():  # one batch per instance (rule E-24)
                await send(channel, [r])
            for name, (f, expected) in FILTER_CASES.items():
                assert described(await live[name].envelopes(len(expected))) == expected, name
                logged = await Stream.open(channel, filter=f, since_cursor="0").until_bookmark()
                assert described(logged) == expected, name

    asyncio.run(scenario())


def test_e18_a_subscriber_only_lags_on_envelopes_it_asked_for(state: Path) -> None:
    """Buffer of 5, stalled reader: 300 envelopes of another module never count against it."""
    async def scenario() -> None:
        settings = EventSettings(subscriber_buffer=5)
        async with bus_server(state, settings) as (bus, address), \
                grpc.aio.insecure_channel(address) as channel, \
                grpc.aio.insecure_channel(address, options=STALLED) as stalled_channel:
            picky = Stream.open(stalled_channel, filter=Filter(module_ids=["quiet"]))
            await picky.until_bookmark()  # then it reads nothing while the noise goes by
            for start in range(1, 301, 5):
                await send(channel, [make_report(s, "noisy-1", "noisy")
                                     for s in range(start, start + 5)])
            await send(channel, [make_report(1, "quiet-1", "quiet")])
            (envelope,) = await picky.envelopes(1)
            assert envelope.report.header.module_id == "quiet"
            assert bus.stats().lagged == 0

    asyncio.run(scenario())


def test_invalid_subscription_requests_are_invalid_argument(state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (_, channel):
            cases = {
                "max_batch must be 1 to 500": {"max_batch": 501},
                "max_batch": {"max_batch": -1},
                "not event types": {"filter": Filter(event_types=[99])},
                "not a severity": {"filter": Filter(min_severity=7)},
                "subscriber name": {"subscriber": "s" * 129},
            }
            for words, request in cases.items():
                code, details = await Stream.open(channel, **request).ended()
                assert code is grpc.StatusCode.INVALID_ARGUMENT, words
                assert words in details, details

    asyncio.run(scenario())


def test_e16_an_envelope_goes_out_at_once_and_batches_hold_at_most_max_batch(
        state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (_, channel):
            live = await Stream.live(channel, max_batch=100)
            await send(channel, [make_report(1)])
            message = await live.next()  # sent alone: the stream never waits to fill a batch
            assert sequences(message.envelopes) == [1]
            await send(channel, [make_report(s) for s in range(2, 251)])
            for max_batch, sizes in ((100, [100, 100, 50]), (0, [100, 100, 50]),
                                     (500, [250]), (1, [1] * 250)):
                catch_up = Stream.open(channel, since_cursor="0", max_batch=max_batch)
                await catch_up.until_bookmark()
                got = [len(m.envelopes) for m in catch_up.messages if m.envelopes]
                assert got == sizes, max_batch
            await send(channel, [make_report(s) for s in range(251, 461)])
            await live.envelopes(459)
            assert max(len(m.envelopes) for m in live.messages) <= 100

    asyncio.run(scenario())


def test_e14_an_idle_stream_gets_a_bookmark_after_exactly_the_interval(state: Path) -> None:
    async def scenario() -> None:
        timer = ManualTimer()
        settings = EventSettings(bookmark_interval=4.0)
        async with connected(state, settings, timer=timer) as (_, channel):
            stream = Stream.open(channel, filter=Filter(module_ids=["a"]))
            first = await stream.next()  # at the live end at once: a bookmark with its cursor
            assert first.bookmark and first.resume_cursor
            await eventually(lambda: timer.waiting == 1)
            timer.advance(3.5)
            await send(channel, [make_report(1, "a-1", "a")])
            message = await stream.next()  # no bookmark came before it at 3.5 s
            assert not message.bookmark and sequences(message.envelopes) == [1]
            await eventually(lambda: timer.waiting == 1)
            timer.advance(3.5)  # 3.5 s idle since that envelope: nothing yet
            await send(channel, [make_report(1, "b-1", "b")])  # filtered out: still idle
            timer.advance(0.5)  # 4 s idle
            bookmark = await stream.next()
            assert bookmark.bookmark and not bookmark.envelopes
            # it covers the envelope of module b this subscriber did not ask for
            reader = Stream.open(channel, since_cursor="0")
            everything = await reader.until_bookmark()
            assert bookmark.resume_cursor == everything[-1].cursor
            reader.call.cancel()
            await eventually(lambda: timer.waiting == 1)
            timer.advance(4.0)
            assert (await stream.next()).bookmark  # and again after each idle interval

    asyncio.run(scenario())


def test_e15_a_stalled_subscriber_is_signalled_and_cut_off_while_another_gets_everything(
        state: Path) -> None:
    async def scenario() -> None:
        settings = EventSettings(subscriber_buffer=1000)
        async with bus_server(state, settings) as (bus, address), \
                grpc.aio.insecure_channel(address) as channel, \
                grpc.aio.insecure_channel(address, options=STALLED) as stalled_channel, \
                reporter(address) as rep:
            healthy = Stream.open(channel, subscriber="healthy", max_batch=500)
            stalled = Stream.open(stalled_channel, subscriber="stalled", max_batch=50)
            await healthy.until_bookmark()
            await stalled.until_bookmark()  # and then it stops reading
            received: list[int] = []
            made = 0
            while bus.stats().lagged == 0:  # ~100 KB in the transport, then 1000 in its buffer
                assert made < 20_000, "the stalled subscriber was never cut off"
                for _ in range(250):
                    rep.event(E.EVENT_TYPE_INFO, "x" * 100)
                made += 250
                assert await rep.flush(20)  # the modules are never slowed down
                received += sequences(await healthy.envelopes(made - len(received)))
            assert received == list(range(1, made + 1))
            print(f"stalled subscriber cut off after {made} envelopes")
            # the stalled subscriber reads again: what was sent, LAGGED, RESOURCE_EXHAUSTED
            code, details = await stalled.ended()
            assert code is grpc.StatusCode.RESOURCE_EXHAUSTED and "E-15" in details
            *batches, signal = stalled.messages[1:]
            assert signal.signal == orchestrator_pb2.STREAM_SIGNAL_LAGGED
            got = [e for m in batches for e in m.envelopes]
            assert signal.resume_cursor == got[-1].cursor
            # resuming from its cursor it gets the rest: every envelope exactly once
            resumed = Stream.open(channel, since_cursor=signal.resume_cursor)
            rest = await resumed.until_bookmark()
            assert sequences(got + rest) == list(range(1, made + 1))

    asyncio.run(scenario())


def test_s7_one_subscriber_more_than_the_limit_is_resource_exhausted(state: Path) -> None:
    async def scenario() -> None:
        settings = EventSettings(max_subscribers=2)
        async with connected(state, settings) as (bus, channel):
            first, second = Stream.open(channel), Stream.open(channel)
            await first.until_bookmark()
            await second.until_bookmark()
            code, details = await Stream.open(channel).ended()
            assert code is grpc.StatusCode.RESOURCE_EXHAUSTED and "S-7" in details
            first.call.cancel()
            await eventually(lambda: bus.stats().subscribers == 1)
            await Stream.open(channel).until_bookmark()  # room again

    asyncio.run(scenario())


def test_close_sends_shutting_down_with_a_cursor_that_resumes_after_a_restart(
        state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (bus, channel):
            stream = await Stream.live(channel)
            await send(channel, [make_report(s) for s in range(1, 21)])
            got = await stream.envelopes(20)
            await send(channel, [make_report(s) for s in range(21, 31)])
            await bus.close()
            code, _ = await stream.ended()
            assert code is grpc.StatusCode.OK
            signal = stream.messages[-1]
            assert signal.signal == orchestrator_pb2.STREAM_SIGNAL_SHUTTING_DOWN
            got += [e for m in stream.messages[:-1] for e in m.envelopes][len(got):]
            assert signal.resume_cursor == got[-1].cursor
        async with connected(state) as (_, channel):
            rest = await Stream.open(channel, since_cursor=signal.resume_cursor).until_bookmark()
            assert sequences(got + rest) == list(range(1, 31))

    asyncio.run(scenario())
