"""The log shares the state file with the orchestrator's own tables: another connection's
write makes a report wait (or fail UNAVAILABLE, losing nothing), never the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc

from mediagrid.reference.orchestrator.events import EventSettings
from tests.orchestrator.events.harness import (
    Stream,
    connected,
    report,
    rpc_error,
    send,
    sequences,
)


@contextmanager
def writing(state: Path) -> Iterator[None]:
    """Another connection (the desired-state store, say) holding the file's write lock."""
    other = sqlite3.connect(state, isolation_level=None)
    other.execute("CREATE TABLE IF NOT EXISTS desired_entities (id TEXT PRIMARY KEY)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO desired_entities VALUES ('cam-1')")
    try:
        yield
    finally:
        other.execute("COMMIT")
        other.close()


def test_a_report_waiting_for_the_file_stalls_no_stream(state: Path) -> None:
    async def scenario() -> None:
        async with connected(state) as (_, channel):
            await send(channel, [report(1)])
            with writing(state):
                waiting = asyncio.create_task(send(channel, [report(2)]))
                # meanwhile a subscriber catches up from the log and reaches the live end
                assert sequences(await Stream.open(channel, since_cursor="0").until_bookmark()) \
                    == [1]
                assert not waiting.done()  # it cannot be written before the lock is released
            assert (await waiting).accepted == 1
            assert sequences(await Stream.open(channel, since_cursor="0").until_bookmark()) \
                == [1, 2]
            with sqlite3.connect(state) as conn:
                assert conn.execute("SELECT id FROM desired_entities").fetchall() == [("cam-1",)]

    asyncio.run(scenario())


def test_e24_a_report_that_cannot_be_written_is_unavailable_and_written_on_retry(
        state: Path) -> None:
    async def scenario() -> None:
        async with connected(state, EventSettings(busy_timeout=0.2)) as (bus, channel):
            await send(channel, [report(1)])
            with writing(state):
                error = await rpc_error(send(channel, [report(2), report(3)]))
            assert error.code() is grpc.StatusCode.UNAVAILABLE
            assert "not acknowledged" in error.details()
            again = await send(channel, [report(2), report(3)])  # the module's retry (E-3)
            assert (again.accepted, again.duplicates) == (2, 0)
            got = await Stream.open(channel, since_cursor="0").until_bookmark()
            assert sequences(got) == [1, 2, 3]
            assert bus.stats().accepted == 3

    asyncio.run(scenario())


def test_a_state_file_of_the_first_log_schema_is_upgraded_keeping_its_marks(
        state: Path) -> None:
    """Schema 1 (before the E-22 declared count) as the first bus wrote it."""
    with sqlite3.connect(state) as conn:
        conn.executescript("""
            CREATE TABLE event_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO event_meta VALUES ('tag', 'abcdef01'), ('pruned_through', '0'),
                                          ('schema', '1');
            CREATE TABLE event_instances (instance_id TEXT PRIMARY KEY,
                module_id TEXT NOT NULL, high_water INTEGER NOT NULL, gaps INTEGER NOT NULL,
                last_seen_ns INTEGER NOT NULL);
            INSERT INTO event_instances VALUES ('inst-1', 'mod', 2, 1, 9000000000000000000);
        """)

    async def scenario() -> None:
        async with connected(state) as (bus, channel):
            assert bus.stats().gaps == 1
            reply = await send(channel, [report(2), report(3)])
            assert (reply.accepted, reply.duplicates) == (1, 1)  # the mark of schema 1 holds
            assert bus.stats().head_cursor.endswith("abcdef01")

    asyncio.run(scenario())
