"""Pipelines in the desired state: which connections, flow and converters each
CreatePipeline made, so DeletePipeline removes exactly those, a repeated `request_id` returns
the first call's pipeline, and all of it survives an orchestrator restart.

The entities, connections and flow themselves are recorded by the brokers like any service's
(desired_state.py), so a module restart brings them back (H-15); this table only ties them
together. It lives in the same state file (table `desired_pipelines`), on the desired state's
own worker thread.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from mediagrid.reference.orchestrator.desired_state import DesiredState, FlowRecord
from mediagrid.v1 import orchestrator_pb2

SCHEMA = """
CREATE TABLE IF NOT EXISTS desired_pipelines (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline_id TEXT NOT NULL UNIQUE, request_id TEXT NOT NULL, request BLOB NOT NULL,
    created_entities TEXT NOT NULL, connection_ids TEXT NOT NULL, plan TEXT NOT NULL,
    started INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
"""


@dataclass(frozen=True)
class PipelineRecord:
    pipeline_id: str
    request_id: str
    request: orchestrator_pb2.CreatePipelineRequest
    created_entities: tuple[tuple[str, str], ...]  # (module id, entity id) of converters made
    connection_ids: tuple[str, ...]
    plan: tuple[str, ...] = ()
    started: bool = False
    deleted: bool = False


class PipelineStore:
    """The `desired_pipelines` table, on the DesiredState's connection and thread."""

    def __init__(self, store: DesiredState) -> None:
        self.store = store
        self._ready = False

    async def _schema(self) -> None:
        if not self._ready:
            def create() -> None:
                assert self.store._db is not None
                self.store._db.executescript(SCHEMA)
            await self.store._run(create)
            self._ready = True

    async def put(self, p: PipelineRecord) -> None:
        await self._schema()
        await self.store._run(self.store._write, (
            "INSERT INTO desired_pipelines (pipeline_id, request_id, request, created_entities,"
            " connection_ids, plan, started, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (pipeline_id) DO UPDATE SET request_id = excluded.request_id,"
            " request = excluded.request, created_entities = excluded.created_entities,"
            " connection_ids = excluded.connection_ids, plan = excluded.plan,"
            " started = excluded.started, deleted = excluded.deleted"),
            p.pipeline_id, p.request_id, p.request.SerializeToString(deterministic=True),
            json.dumps([list(e) for e in p.created_entities]), json.dumps(list(p.connection_ids)),
            json.dumps(list(p.plan)), int(p.started), int(p.deleted))

    async def get(self, pipeline_id: str) -> PipelineRecord | None:
        await self._schema()
        rows = await self.store._run(self.store._rows, "SELECT * FROM desired_pipelines WHERE"
                                     " pipeline_id = ?", pipeline_id)
        return _pipeline(rows[0]) if rows else None

    async def by_request(self, request_id: str) -> PipelineRecord | None:
        await self._schema()
        rows = await self.store._run(self.store._rows, "SELECT * FROM desired_pipelines WHERE"
                                     " request_id = ? ORDER BY seq DESC LIMIT 1", request_id)
        return _pipeline(rows[0]) if rows else None

    async def all_flows(self) -> list[FlowRecord]:
        """Every flow, stopped ones too, in creation order."""
        from mediagrid.reference.orchestrator.desired_state import _flow
        rows = await self.store._run(self.store._rows, "SELECT * FROM desired_flows ORDER BY"
                                     " seq")
        return [_flow(r) for r in rows]


def _pipeline(r: sqlite3.Row) -> PipelineRecord:
    return PipelineRecord(
        r["pipeline_id"], r["request_id"],
        orchestrator_pb2.CreatePipelineRequest.FromString(r["request"]),
        tuple((m, e) for m, e in json.loads(r["created_entities"])),
        tuple(json.loads(r["connection_ids"])), tuple(json.loads(r["plan"])),
        bool(r["started"]), bool(r["deleted"]))
