"""Catch-up reads: the envelopes after a subscriber's cursor, straight from the log.

A `LogReader` has its own connection and its own thread, so a subscriber catching up never
waits for a write and never holds up the event loop. Each page is read in one read
transaction (a WAL snapshot) together with the log's `pruned_through`, so a subscriber whose
position was pruned while it caught up is told so (`Pruned`) instead of silently skipping.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from pathlib import Path
from typing import Any

from mediagrid.reference.orchestrator.events.filters import Filter, FilterKey
from mediagrid.reference.orchestrator.events.log import COLUMNS, LogEntry, connect, entry_from_row
from mediagrid.reference.orchestrator.events.settings import EventSettings


class Pruned(Exception):
    """The envelopes after this position are no longer all retained."""

    def __init__(self, position: int, pruned_through: int) -> None:
        super().__init__(position, pruned_through)
        self.position, self.pruned_through = position, pruned_through


class LogReader:
    def __init__(self, path: Path, settings: EventSettings, tag: str) -> None:
        self._path, self._settings, self._tag = path, settings, tag
        self._executor = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="event-log-reader")
        self._conn: Any = None

    async def _run(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    async def read_after(self, position: int, upto: int, limit: int, flt: Filter
                         ) -> tuple[list[LogEntry], int]:
        """Matching entries in (position, upto], at most `limit` rows scanned; and the position
        read through. Raises Pruned when rows after `position` were dropped."""
        return await self._run(self._read, position, upto, limit, flt)  # type: ignore[no-any-return]

    def _read(self, position: int, upto: int, limit: int, flt: Filter
              ) -> tuple[list[LogEntry], int]:
        if self._conn is None:
            self._conn = connect(self._path, self._settings)
        c = self._conn
        c.execute("BEGIN")
        try:
            (pruned,) = c.execute(
                "SELECT value FROM event_meta WHERE key = 'pruned_through'").fetchone()
            if int(pruned) > position:
                raise Pruned(position, int(pruned))
            rows = c.execute(
                f"SELECT {COLUMNS} FROM event_log WHERE position > ? AND position <= ?"
                " ORDER BY position LIMIT ?", (position, upto, limit)).fetchall()
        finally:
            c.execute("COMMIT")
        entries = [entry_from_row(row, self._tag) for row in rows
                   if flt.match(_key(row))]
        through = rows[-1][0] if len(rows) == limit else upto
        return entries, through

    async def close(self) -> None:
        if self._conn is not None:
            await self._run(self._conn.close)
        self._executor.shutdown(wait=True)


def _key(row: tuple) -> FilterKey:  # type: ignore[type-arg]
    return FilterKey(*row[2:8])
