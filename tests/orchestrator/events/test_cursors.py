"""Cursors and the retained window (rules E-11, E-12, E-13)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from mediagrid.reference.orchestrator.events import EventSettings, cursors
from mediagrid.v1 import event_pb2, orchestrator_pb2
from tests.orchestrator.events.harness import (
    STALLED,
    Stream,
    bus_server,
    connected,
    report,
    send,
    sequences,
)


def test_cursor_encoding_is_fixed_length_and_orders_as_positions() -> None:
    tag = "9f3c01d2"  # fixed: a random tag of digits only would upper-case to itself
    assert len(cursors.new_tag()) == 8 and cursors.new_tag() != cursors.new_tag()
    positions = [0, 1, 2, 9, 10, 15, 16, 255, 256, 10**6, 2**40]
    encoded = [cursors.encode(p, tag) for p in positions]
    assert {len(c) for c in encoded} == {cursors.LENGTH}
    assert sorted(encoded) == encoded  # byte order is position order
    assert [cursors.decode(c, tag) for c in encoded] == positions
    for bad in ("", "0", "x" * 24, encoded[3].upper(), encoded[3][:-1],
                cursors.encode(3, "00000000")):
        with pytest.raises(cursors.CursorError):
            cursors.decode(bad, tag)


def test_e11_envelopes_come_in_cursor_order_with_unique_fixed_length_cursors(
        state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (bus, channel):
            stream = await Stream.live(channel)
            await send(channel, [report(s) for s in range(1, 41)])
            await send(channel, [report(s, instance="other") for s in range(1, 41)])
            await bus.publish("mod", event_pb2.Event(type=event_pb2.EVENT_TYPE_MODULE_RESTARTED))
            got = await stream.envelopes(81)
            cursor_list = [e.cursor for e in got]
            assert len(set(cursor_list)) == 81
            assert {len(c) for c in cursor_list} == {24}
            assert cursor_list == sorted(cursor_list)  # compared as strings: delivery order
            assert all(m.resume_cursor == m.envelopes[-1].cursor
                       for m in stream.messages if m.envelopes)

    asyncio.run(scenario())


def test_e12_reconnecting_with_the_last_cursor_misses_nothing_and_repeats_nothing(
        state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (_, channel):
            stream = await Stream.live(channel, since_cursor="0")
            await send(channel, [report(s) for s in range(1, 51)])
            first = await stream.envelopes(20)  # and maybe more are on their way: drop them
            stream.call.cancel()
            await send(channel, [report(s) for s in range(51, 101)])
            again = Stream.open(channel, since_cursor=first[-1].cursor)
            rest = await again.until_bookmark()
            assert sequences(first + rest) == list(range(1, 101))

    asyncio.run(scenario())


def test_e12_a_cursor_stays_valid_across_a_restart_of_the_bus_on_the_same_file(
        state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (_, channel):
            await send(channel, [report(s) for s in range(1, 31)])
            stream = Stream.open(channel, since_cursor="0", max_batch=10)
            first = await stream.envelopes(10)
        async with connected(state) as (_, channel):
            await send(channel, [report(s) for s in range(31, 41)])
            again = Stream.open(channel, since_cursor=first[-1].cursor)
            rest = await again.until_bookmark()
            assert sequences(first + rest) == list(range(1, 41))
            # positions go on from where they were: new cursors sort after the old ones
            assert rest[-1].cursor > first[-1].cursor

    asyncio.run(scenario())


def test_e12_zero_starts_at_the_oldest_retained_and_empty_at_the_live_end(
        state: Path) -> None:
    async def scenario() -> None:
        settings = EventSettings(retain_envelopes=10)
        async with connected(state, settings) as (bus, channel):
            await send(channel, [report(s) for s in range(1, 31)])
            await bus.prune()
            oldest = Stream.open(channel, since_cursor="0")
            assert sequences(await oldest.until_bookmark()) == list(range(21, 31))
            live = Stream.open(channel, since_cursor="")
            assert await live.until_bookmark() == []
            await send(channel, [report(31)])
            assert sequences(await live.envelopes(1)) == [31]

    asyncio.run(scenario())


def test_e13_a_cursor_older_than_the_window_or_not_ours_is_out_of_range(
        state: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        settings = EventSettings(retain_envelopes=10)
        async with bus_server(tmp_path / "other.sqlite") as (_, other_address), \
                grpc.aio.insecure_channel(other_address) as other:
            await send(other, [report(s) for s in range(1, 31)])
            foreign = (await Stream.open(other, since_cursor="0").until_bookmark())[24].cursor
        async with connected(state, settings) as (bus, channel):
            live = await Stream.live(channel)
            await send(channel, [report(s) for s in range(1, 31)])
            everything = await live.envelopes(30)
            await bus.prune()  # the window is now envelopes 21..30
            edge = everything[19].cursor  # envelope 20: everything after it is retained
            assert sequences(await Stream.open(channel, since_cursor=edge).until_bookmark()) \
                == list(range(21, 31))
            beyond = cursors.encode(31, edge[16:])
            for cursor, words in ((everything[18].cursor, "older than the retained window"),
                                  (foreign, "another event log"),
                                  (beyond, "beyond the end"),
                                  ("not-a-cursor", "not a cursor")):
                code, details = await Stream.open(channel, since_cursor=cursor).ended()
                assert code is grpc.StatusCode.OUT_OF_RANGE, cursor
                assert words in details and "resync" in details, details

    asyncio.run(scenario())


def test_e13_the_window_also_ends_by_age_and_positions_are_never_reused(
        state: Path) -> None:
    async def scenario() -> None:
        now = [1_000_000.0]
        settings = EventSettings(retain_seconds=60)
        async with connected(state, settings, clock=lambda: now[0]) as (bus, channel):
            await send(channel, [report(s) for s in range(1, 6)])
            now[0] += 30
            await send(channel, [report(s) for s in range(6, 9)])
            seen = await Stream.open(channel, since_cursor="0").until_bookmark()
            now[0] += 30  # the first five are exactly 60 s old: still retained
            await bus.prune()
            assert bus.stats().retained == 8
            now[0] += 0.5  # now older than 60 s
            await bus.prune()
            assert bus.stats().retained == 3
            code, _ = await Stream.open(channel, since_cursor=seen[3].cursor).ended()
            assert code is grpc.StatusCode.OUT_OF_RANGE
            rest = await Stream.open(channel, since_cursor=seen[4].cursor).until_bookmark()
            assert sequences(rest) == [6, 7, 8]
            now[0] += 60
            await bus.prune()
            assert bus.stats().retained == 0
            now[0] -= 3600  # the clock goes back an hour: acceptance times never do
            await send(channel, [report(1, instance="late")])
            (late,) = await Stream.open(channel, since_cursor=seen[-1].cursor).until_bookmark()
            assert late.received_at.seconds >= seen[-1].received_at.seconds
        async with connected(state, settings, clock=lambda: now[0]) as (bus, channel):
            assert bus.stats().head_cursor == late.cursor
            live = Stream.open(channel, since_cursor=late.cursor)
            assert await live.until_bookmark() == []
            await send(channel, [report(1, instance="new")])
            (fresh,) = await live.envelopes(1)
            assert fresh.cursor > late.cursor > seen[-1].cursor

    asyncio.run(scenario())


def test_e13_pruning_past_a_subscriber_still_catching_up_ends_it_out_of_range(
        state: Path) -> None:
    """Never a silent skip: the catch-up reads its position and the window in one snapshot."""
    big = "x" * 20_000  # a few envelopes fill the stalled client's 64 KiB window

    async def scenario() -> None:
        settings = EventSettings(retain_envelopes=40, catchup_page=2)
        async with bus_server(state, settings) as (bus, address), \
                grpc.aio.insecure_channel(address) as channel, \
                grpc.aio.insecure_channel(address, options=STALLED) as slow_channel:
            await send(channel, [report(s, message=big) for s in range(1, 41)])
            slow = Stream.open(slow_channel, since_cursor="0", max_batch=1)
            (first,) = (await slow.next()).envelopes  # then it stops reading
            await send(channel, [report(s, message=big) for s in range(41, 121)])
            await bus.prune()  # keeps 81..120: the slow one is far behind
            got = [first]
            with pytest.raises(grpc.aio.AioRpcError) as ended:
                while True:
                    got.extend((await slow.next()).envelopes)
            assert ended.value.code() is grpc.StatusCode.OUT_OF_RANGE
            assert "retained window moved past" in ended.value.details()
            assert sequences(got) == list(range(1, len(got) + 1))  # nothing skipped
            assert len(got) < 80

    asyncio.run(scenario())


def test_e12_a_catch_up_in_small_pages_with_a_filter_misses_nothing(state: Path) -> None:
    async def scenario() -> None:
        settings = EventSettings(catchup_page=7)
        async with connected(state, settings) as (_, channel):
            for n in range(1, 101):  # every third envelope is module b's
                module = "a" if n % 3 else "b"
                await send(channel, [report(n, instance=module, module=module)])
            only_a = orchestrator_pb2.EventFilter(module_ids=["a"])
            got = await Stream.open(channel, since_cursor="0", filter=only_a,
                                    max_batch=5).until_bookmark()
            assert sequences(got) == [n for n in range(1, 101) if n % 3]

    asyncio.run(scenario())
