"""The durable event log in the state file (SQLite, WAL): append once per (instance, sequence).

One `EventLog` object, used by one thread only (the writer's), owns the writing connection.
Its tables share the state file with the orchestrator's desired state; all are `event_`:

    event_meta(key, value)        'tag': the cursor tag; 'pruned_through': last dropped position
    event_log(position, ...)      one row per envelope; `report` is the ModuleReport as sent
    event_instances(instance_id)  the highest sequence accepted per module instance (rule E-4)

`append()` writes the reports of several calls in ONE transaction: rows, high-water marks and
pruning commit together or not at all, and memory is updated only after the commit. So what
a call acknowledges is in the file, and a repeat is recognised after any restart, because the
high-water marks are in the same file. Positions are contiguous and never reused, even after
every row has been pruned (`pruned_through` remembers where the log stood).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from mediagrid.reference.orchestrator.events import cursors, wire
from mediagrid.reference.orchestrator.events.filters import FilterKey, key_of
from mediagrid.reference.orchestrator.events.settings import EventSettings
from mediagrid.v1 import event_pb2

log = logging.getLogger("mediagrid.orchestrator.events")

SCHEMA_VERSION = "2"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS event_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS event_log (
        position INTEGER PRIMARY KEY, received_ns INTEGER NOT NULL,
        module_id TEXT NOT NULL, instance_id TEXT NOT NULL, sequence INTEGER NOT NULL,
        kind INTEGER NOT NULL, event_type INTEGER NOT NULL, severity INTEGER NOT NULL,
        entity_id TEXT NOT NULL, flow_id TEXT NOT NULL, report BLOB NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS event_log_received ON event_log (received_ns)",
    """CREATE TABLE IF NOT EXISTS event_instances (
        instance_id TEXT PRIMARY KEY, module_id TEXT NOT NULL, high_water INTEGER NOT NULL,
        gaps INTEGER NOT NULL, declared INTEGER NOT NULL, last_seen_ns INTEGER NOT NULL)""",
)
INSERT = "INSERT INTO event_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
UPSERT_INSTANCE = """INSERT INTO event_instances VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (instance_id) DO UPDATE SET high_water = excluded.high_water,
    gaps = gaps + excluded.gaps, declared = declared + excluded.declared,
    last_seen_ns = excluded.last_seen_ns"""
COLUMNS = "position, received_ns, module_id, kind, event_type, severity, entity_id, flow_id, report"


def connect(path: Path, settings: EventSettings) -> sqlite3.Connection:
    """A connection of our own to the state file: WAL, busy timeout, explicit transactions."""
    conn = sqlite3.connect(path, timeout=settings.busy_timeout, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={settings.synchronous}")
    return conn


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One committed envelope, encoded once for every subscriber."""

    position: int
    cursor: str
    key: FilterKey
    frame: bytes


def _declared_drops(report: event_pb2.ModuleReport) -> int:
    """How many dropped reports a WARNING of rule E-22 declares (0 for any other report)."""
    if report.WhichOneof("report") != "event" or report.event.type != event_pb2.EVENT_TYPE_WARNING:
        return 0
    details = report.event.details
    try:
        return max(0, int(details.get("dropped_reports", "0")))
    except ValueError:
        return 0


def entry_from_row(row: tuple, tag: str) -> LogEntry:  # type: ignore[type-arg]
    position, received_ns, module_id, kind, etype, severity, entity_id, flow_id, report = row
    cursor = cursors.encode(position, tag)
    return LogEntry(position, cursor,
                    FilterKey(module_id, kind, etype, severity, entity_id, flow_id),
                    wire.envelope_frame(cursor, received_ns, report))


@dataclass
class AppendOutcome:
    """What one call's reports became: how many were new, how many repeats."""

    accepted: int = 0
    duplicates: int = 0
    entries: tuple[LogEntry, ...] = ()


@dataclass
class Instance:
    module_id: str
    high_water: int
    gaps: int = 0
    """Sequence numbers never received (E-24 accepts the reports after them) ..."""
    declared: int = 0
    """... and how many of them the module declared dropped (E-22's WARNING)."""

    @property
    def undeclared(self) -> int:
        return max(0, self.gaps - self.declared)


@dataclass(frozen=True)
class LogState:
    head: int
    pruned_through: int


@dataclass
class _Batch:
    """The rows of one transaction being assembled, and the marks they move."""

    head: int
    rows: list[tuple] = field(default_factory=list)  # type: ignore[type-arg]
    highs: dict[str, int] = field(default_factory=dict)
    gaps: dict[str, int] = field(default_factory=dict)
    declared: dict[str, int] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)


class LogWriteError(RuntimeError):
    """The log could not be written; nothing of the failed call is acknowledged."""


class EventLog:
    def __init__(self, conn: sqlite3.Connection, settings: EventSettings) -> None:
        self._conn = conn
        self._settings = settings
        self.instances: dict[str, Instance] = {}
        self._age_checked_ns = 0

    @classmethod
    def open(cls, path: Path, settings: EventSettings) -> EventLog:
        self = cls(connect(path, settings), settings)
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            for statement in SCHEMA:
                c.execute(statement)
            meta = dict(c.execute("SELECT key, value FROM event_meta").fetchall())
            if "tag" not in meta:
                meta = {"tag": cursors.new_tag(), "pruned_through": "0",
                        "schema": SCHEMA_VERSION}
                c.executemany("INSERT INTO event_meta VALUES (?, ?)", meta.items())
            elif meta.get("schema") == "1":  # 1 -> 2: declared drops per instance (E-22)
                c.execute("ALTER TABLE event_instances ADD COLUMN declared INTEGER NOT NULL "
                          "DEFAULT 0")
                c.execute("UPDATE event_meta SET value = '2' WHERE key = 'schema'")
                meta["schema"] = "2"
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            c.close()
            raise
        if meta.get("schema") != SCHEMA_VERSION:
            c.close()
            raise LogWriteError(f"{path}: event log schema {meta.get('schema')!r} is not "
                                f"{SCHEMA_VERSION!r}; use a state file made by this version")
        self.tag = meta["tag"]
        self.pruned_through = int(meta["pruned_through"])
        last, received = c.execute("SELECT max(position), max(received_ns) FROM event_log"
                                   ).fetchone()
        self.head = max(last or 0, self.pruned_through)
        self._last_received_ns = received or 0
        for iid, mid, high, gaps, declared in c.execute(
                "SELECT instance_id, module_id, high_water, gaps, declared FROM event_instances"):
            self.instances[iid] = Instance(mid, high, gaps, declared)
        return self

    @property
    def state(self) -> LogState:
        return LogState(self.head, self.pruned_through)

    def close(self) -> None:
        self._conn.close()

    # -- appending ---------------------------------------------------------------------------
    def append(self, calls: list[list[event_pb2.ModuleReport]], now_ns: int
               ) -> list[AppendOutcome]:
        """Writes the new reports of several calls in one transaction (rule E-4)."""
        received_ns = max(now_ns, self._last_received_ns)
        batch = _Batch(self.head)
        outcomes = [self._take(reports, batch, received_ns) for reports in calls]
        forgotten: list[str] = []
        if batch.rows:
            forgotten = self._commit(batch, received_ns)
        for iid in forgotten:
            self.instances.pop(iid, None)
        for iid, high in batch.highs.items():
            inst = self.instances.setdefault(iid, Instance(batch.modules[iid], 0))
            inst.high_water = high
            inst.declared += batch.declared.get(iid, 0)
            if gap := batch.gaps.get(iid, 0):
                inst.gaps += gap
                log.info(
                    "module %s instance %s: %d report(s) missing before sequence %d; the module "
                    "dropped them and declares them with a WARNING (rules E-22, E-24)",
                    inst.module_id, iid, gap, high)
        return outcomes

    def _take(self, reports: list[event_pb2.ModuleReport], batch: _Batch, received_ns: int
              ) -> AppendOutcome:
        """Adds one call's new reports to the batch; counts its repeats and gaps."""
        outcome, entries = AppendOutcome(), []
        for report in reports:
            h = report.header
            iid, seq = h.instance_id, h.sequence
            known = self.instances.get(iid)
            high = batch.highs.get(iid, known.high_water if known else 0)
            if seq <= high:
                outcome.duplicates += 1
                continue
            if seq > high + 1:
                batch.gaps[iid] = batch.gaps.get(iid, 0) + seq - high - 1
            if declared := _declared_drops(report):
                batch.declared[iid] = batch.declared.get(iid, 0) + declared
            batch.highs[iid], batch.modules[iid] = seq, h.module_id
            batch.head += 1
            key = key_of(report)
            data = report.SerializeToString()
            batch.rows.append((batch.head, received_ns, key.module_id, iid, seq, *key[1:], data))
            cursor = cursors.encode(batch.head, self.tag)
            entries.append(LogEntry(batch.head, cursor, key,
                                    wire.envelope_frame(cursor, received_ns, data)))
        outcome.accepted = len(entries)
        outcome.entries = tuple(entries)
        return outcome

    def _commit(self, batch: _Batch, received_ns: int) -> list[str]:
        c = self._conn
        try:
            c.execute("BEGIN IMMEDIATE")
            c.executemany(INSERT, batch.rows)
            c.executemany(UPSERT_INSTANCE, [
                (iid, batch.modules[iid], high, batch.gaps.get(iid, 0),
                 batch.declared.get(iid, 0), received_ns)
                for iid, high in batch.highs.items()])
            pruned, forgotten = self._prune_in_transaction(batch.head, received_ns)
            c.execute("COMMIT")
        except sqlite3.Error as exc:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise LogWriteError(f"event log write failed: {exc}") from exc
        self.head, self.pruned_through, self._last_received_ns = batch.head, pruned, received_ns
        return forgotten

    # -- the retained window -----------------------------------------------------------------
    def prune(self, now_ns: int) -> None:
        """Drops envelopes beyond the retained window (by count and by age) now."""
        c = self._conn
        try:
            c.execute("BEGIN IMMEDIATE")
            pruned, forgotten = self._prune_in_transaction(self.head, now_ns, force=True)
            c.execute("COMMIT")
        except sqlite3.Error as exc:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise LogWriteError(f"event log prune failed: {exc}") from exc
        self.pruned_through = pruned
        for iid in forgotten:
            self.instances.pop(iid, None)

    def _prune_in_transaction(self, head: int, now_ns: int, force: bool = False
                              ) -> tuple[int, list[str]]:
        """The new pruned_through, and the instances forgotten for age (not yet in memory)."""
        s = self._settings
        through = self.pruned_through
        forgotten: list[str] = []
        slack = max(1, s.retain_envelopes // 10)  # prune in steps, not one row per insert
        if head - through > s.retain_envelopes + (0 if force else slack):
            through = head - s.retain_envelopes
        if force or now_ns - self._age_checked_ns >= s.prune_interval * 1e9:
            self._age_checked_ns = now_ns
            cutoff = now_ns - int(s.retain_seconds * 1e9)
            (old,) = self._conn.execute(
                "SELECT max(position) FROM event_log WHERE received_ns < ?", (cutoff,)
            ).fetchone()
            through = max(through, old or 0)
            forgotten = [iid for (iid,) in self._conn.execute(
                "DELETE FROM event_instances WHERE last_seen_ns < ? RETURNING instance_id",
                (cutoff,)).fetchall()]
        if through > self.pruned_through:
            self._conn.execute("DELETE FROM event_log WHERE position <= ?", (through,))
            self._conn.execute("UPDATE event_meta SET value = ? WHERE key = 'pruned_through'",
                               (str(through),))
        return through, forgotten
