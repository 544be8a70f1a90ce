"""Desired state (rule H-15): the entities, connections and flows services asked for.

Kept in SQLite (standard library) in the orchestrator's state file, beside the event log, in
tables prefixed `desired_`; WAL, so it survives the orchestrator being SIGKILLed and the event
log's writer does not block it for long. A call is recorded here before the orchestrator
answers it, and what is recorded is re-created in a module after every restart of the module
or of the orchestrator. Removed things keep a row (`removed`/`stopped`) so that a repeated
Destroy, Disconnect or Stop stays idempotent across restarts.

sqlite3 blocks, so every statement runs on one worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mediagrid.v1 import common_pb2, pipeline_pb2

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS desired_entities (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    module_id TEXT NOT NULL, entity_id TEXT NOT NULL, entity_type TEXT NOT NULL,
    name TEXT NOT NULL, media_type INTEGER NOT NULL, config TEXT NOT NULL,
    request_id TEXT NOT NULL, removed INTEGER NOT NULL DEFAULT 0,
    UNIQUE (module_id, entity_id));
CREATE TABLE IF NOT EXISTS desired_connections (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id TEXT NOT NULL UNIQUE,
    source_module TEXT NOT NULL, source_entity TEXT NOT NULL,
    target_module TEXT NOT NULL, target_entity TEXT NOT NULL,
    media_type INTEGER NOT NULL, quality BLOB NOT NULL, transport TEXT NOT NULL,
    endpoint BLOB NOT NULL, removed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS desired_flows (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    flow_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, connection_ids TEXT NOT NULL,
    parts TEXT NOT NULL, generation INTEGER NOT NULL DEFAULT 1,
    stopped INTEGER NOT NULL DEFAULT 0);
"""


@dataclass(frozen=True)
class EntityRecord:
    module_id: str
    entity_id: str
    entity_type: str
    name: str
    media_type: int
    config: dict[str, str]
    request_id: str = ""
    removed: bool = False


@dataclass(frozen=True)
class ConnectionRecord:
    connection_id: str
    source_module: str
    source_entity: str
    target_module: str
    target_entity: str
    media_type: int
    quality: common_pb2.QualityProfile
    transport: str = ""
    endpoint: pipeline_pb2.MediaEndpoint | None = None
    removed: bool = False

    @property
    def local(self) -> bool:
        return self.source_module == self.target_module

    def touches(self, module_id: str) -> bool:
        return module_id in (self.source_module, self.target_module)

    def same_request(self, other: ConnectionRecord) -> bool:
        """Same ends, media type, quality and transport (a repeat, rule P-6)."""
        def key(c: ConnectionRecord) -> tuple[Any, ...]:
            return (c.source_module, c.source_entity, c.target_module, c.target_entity,
                    c.media_type, c.quality.SerializeToString(deterministic=True),
                    c.transport or "mpegts-udp")
        return key(self) == key(other)


@dataclass(frozen=True)
class FlowRecord:
    flow_id: str
    name: str
    connection_ids: tuple[str, ...]
    parts: dict[str, str] = field(default_factory=dict)  # module id -> the module's flow id
    generation: int = 1  # raised when a part had to be started again under a new id
    stopped: bool = False


class DesiredState:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desired-state")
        self._db: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: Path) -> DesiredState:
        store = cls(path)
        await store._run(store._open)
        return store

    def _open(self) -> None:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 30000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across a process kill
        db.executescript(SCHEMA)
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        assert self._db is not None
        cursor = self._db.execute(sql, args)
        cursor.row_factory = sqlite3.Row
        return cursor.fetchall()

    def _write(self, sql: str, *args: Any) -> None:
        assert self._db is not None
        self._db.execute(sql, args)

    # -- entities ------------------------------------------------------------------------

    async def put_entity(self, e: EntityRecord) -> None:
        """Records a live entity (a re-used id after a destroy moves to the end)."""
        await self._run(self._write, (
            "INSERT INTO desired_entities (module_id, entity_id, entity_type, name, media_type,"
            " config, request_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (module_id, entity_id)"
            " DO UPDATE SET entity_type = excluded.entity_type, name = excluded.name,"
            " media_type = excluded.media_type, config = excluded.config,"
            " request_id = excluded.request_id, removed = 0"),
            e.module_id, e.entity_id, e.entity_type, e.name, e.media_type,
            json.dumps(e.config, sort_keys=True), e.request_id)

    async def set_entity_config(self, module_id: str, entity_id: str,
                                config: dict[str, str]) -> None:
        await self._run(self._write, "UPDATE desired_entities SET config = ? WHERE module_id = ?"
                        " AND entity_id = ?", json.dumps(config, sort_keys=True), module_id,
                        entity_id)

    async def remove_entity(self, module_id: str, entity_id: str) -> None:
        await self._run(self._write, "UPDATE desired_entities SET removed = 1 WHERE module_id"
                        " = ? AND entity_id = ?", module_id, entity_id)

    async def entity(self, module_id: str, entity_id: str) -> EntityRecord | None:
        rows = await self._run(self._rows, "SELECT * FROM desired_entities WHERE module_id = ?"
                               " AND entity_id = ?", module_id, entity_id)
        return _entity(rows[0]) if rows else None

    async def entities(self, module_id: str) -> list[EntityRecord]:
        """Live entities of a module in creation order."""
        rows = await self._run(self._rows, "SELECT * FROM desired_entities WHERE module_id = ?"
                               " AND removed = 0 ORDER BY seq", module_id)
        return [_entity(r) for r in rows]

    # -- connections ---------------------------------------------------------------------

    async def put_connection(self, c: ConnectionRecord) -> None:
        await self._run(self._write, (
            "INSERT INTO desired_connections (connection_id, source_module, source_entity,"
            " target_module, target_entity, media_type, quality, transport, endpoint)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (connection_id) DO UPDATE SET"
            " source_module = excluded.source_module, source_entity = excluded.source_entity,"
            " target_module = excluded.target_module, target_entity = excluded.target_entity,"
            " media_type = excluded.media_type, quality = excluded.quality,"
            " transport = excluded.transport, endpoint = excluded.endpoint, removed = 0"),
            c.connection_id, c.source_module, c.source_entity, c.target_module,
            c.target_entity, c.media_type, c.quality.SerializeToString(), c.transport,
            c.endpoint.SerializeToString() if c.endpoint is not None else b"")

    async def set_endpoint(self, connection_id: str, endpoint: pipeline_pb2.MediaEndpoint) -> None:
        await self._run(self._write, "UPDATE desired_connections SET endpoint = ? WHERE"
                        " connection_id = ?", endpoint.SerializeToString(), connection_id)

    async def set_quality(self, connection_id: str, quality: common_pb2.QualityProfile) -> None:
        await self._run(self._write, "UPDATE desired_connections SET quality = ? WHERE"
                        " connection_id = ?", quality.SerializeToString(), connection_id)

    async def remove_connection(self, connection_id: str) -> None:
        await self._run(self._write, "UPDATE desired_connections SET removed = 1 WHERE"
                        " connection_id = ?", connection_id)

    async def connection(self, connection_id: str) -> ConnectionRecord | None:
        rows = await self._run(self._rows, "SELECT * FROM desired_connections WHERE"
                               " connection_id = ?", connection_id)
        return _connection(rows[0]) if rows else None

    async def connections(self, module_id: str | None = None) -> list[ConnectionRecord]:
        """Live connections (touching `module_id` when given) in creation order."""
        rows = await self._run(self._rows, "SELECT * FROM desired_connections WHERE removed = 0"
                               " ORDER BY seq")
        found = [_connection(r) for r in rows]
        return [c for c in found if module_id is None or c.touches(module_id)]

    # -- flows ---------------------------------------------------------------------------

    async def put_flow(self, f: FlowRecord) -> None:
        await self._run(self._write, (
            "INSERT INTO desired_flows (flow_id, name, connection_ids, parts, generation,"
            " stopped) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (flow_id) DO UPDATE SET"
            " name = excluded.name, connection_ids = excluded.connection_ids,"
            " parts = excluded.parts, generation = excluded.generation,"
            " stopped = excluded.stopped"),
            f.flow_id, f.name, json.dumps(list(f.connection_ids)),
            json.dumps(f.parts, sort_keys=True), f.generation, int(f.stopped))

    async def flow(self, flow_id: str) -> FlowRecord | None:
        rows = await self._run(self._rows, "SELECT * FROM desired_flows WHERE flow_id = ?",
                               flow_id)
        return _flow(rows[0]) if rows else None

    async def flows(self) -> list[FlowRecord]:
        """Running (not stopped) flows in creation order."""
        rows = await self._run(self._rows, "SELECT * FROM desired_flows WHERE stopped = 0"
                               " ORDER BY seq")
        return [_flow(r) for r in rows]


def _entity(r: sqlite3.Row) -> EntityRecord:
    return EntityRecord(r["module_id"], r["entity_id"], r["entity_type"], r["name"],
                        r["media_type"], json.loads(r["config"]), r["request_id"],
                        bool(r["removed"]))


def _connection(r: sqlite3.Row) -> ConnectionRecord:
    endpoint = None
    if r["endpoint"]:
        endpoint = pipeline_pb2.MediaEndpoint.FromString(r["endpoint"])
    return ConnectionRecord(
        r["connection_id"], r["source_module"], r["source_entity"], r["target_module"],
        r["target_entity"], r["media_type"], common_pb2.QualityProfile.FromString(r["quality"]),
        r["transport"], endpoint, bool(r["removed"]))


def _flow(r: sqlite3.Row) -> FlowRecord:
    return FlowRecord(r["flow_id"], r["name"], tuple(json.loads(r["connection_ids"])),
                      json.loads(r["parts"]), r["generation"], bool(r["stopped"]))
