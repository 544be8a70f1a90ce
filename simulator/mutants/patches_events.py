"""Mutant patches of reports and configuration (E and C rules, and the SHOULD rules E-5,
E-10, N-11)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from mediagrid.sdk import types as types_mod
from mediagrid.sdk.config import ModuleConfig
from mediagrid.sdk.errors import InvalidArgument
from mediagrid.sdk.reporter import EventReporter
from mediagrid.sdk.runtime import ModuleRuntime
from mediagrid.sdk.sender import GrpcReportSender
from mediagrid.sdk.servicers import ConfigServicer
from mediagrid.v1 import config_pb2, event_pb2

T = event_pb2


def header_instance_mismatch() -> None:
    init = ModuleRuntime.__init__

    def patched(self: ModuleRuntime, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.reporter.instance_id = str(uuid.uuid4())  # mutant: not the HealthCheck one (E-1)
    ModuleRuntime.__init__ = patched  # type: ignore[method-assign]


def _enqueue_with(change: Any) -> None:
    enqueue = EventReporter._enqueue

    def patched(self: EventReporter, report: event_pb2.ModuleReport) -> int:
        change(self)
        return enqueue(self, report)
    EventReporter._enqueue = patched  # type: ignore[method-assign]


def sequence_gap() -> None:
    def skip(self: EventReporter) -> None:
        if self._sequence == 4:
            self._sequence += 1  # mutant: #6 follows #4 (E-2)
    _enqueue_with(skip)


def sequence_repeat() -> None:
    def repeat(self: EventReporter) -> None:
        if self._sequence == 5:
            self._sequence -= 1  # mutant: #5 twice, for two reports (E-2)
    _enqueue_with(repeat)


def gap_after_100_reports() -> None:
    def skip(self: EventReporter) -> None:
        if self._sequence == 101:
            self._sequence += 1  # mutant: fine until the 101st report (E-2)
    _enqueue_with(skip)


def retry_new_sequence() -> None:
    send = GrpcReportSender.send

    async def patched(self: GrpcReportSender, reports: list[event_pb2.ModuleReport]) -> None:
        try:
            await send(self, reports)
        except Exception:
            for report in reports:  # mutant: renumbered before the retry (E-3)
                report.header.sequence += 1000
            raise
    GrpcReportSender.send = patched  # type: ignore[method-assign]


def no_buffer_while_down() -> None:
    send = GrpcReportSender.send

    async def patched(self: GrpcReportSender, reports: list[event_pb2.ModuleReport]) -> None:
        try:
            await send(self, reports)
        except Exception:
            return  # mutant: what could not be sent is lost (E-5, and E-3)
    GrpcReportSender.send = patched  # type: ignore[method-assign]


def batches_wait() -> None:
    send = GrpcReportSender.send

    async def patched(self: GrpcReportSender, reports: list[event_pb2.ModuleReport]) -> None:
        await asyncio.sleep(1.5)  # mutant: waits to fill a batch (E-10)
        await send(self, reports)
    GrpcReportSender.send = patched  # type: ignore[method-assign]


def _event_with(before: Any = None, after: Any = None, drop: Any = None) -> None:
    event = EventReporter.event

    def patched(self: EventReporter, type: int, message: str = "", **kw: Any) -> int:
        if drop is not None and drop(type):
            if type == T.EVENT_TYPE_ENTITY_CREATED:
                self._entities.add(kw.get("entity_id", ""))
            if type == T.EVENT_TYPE_CONNECTION_CREATED:
                self._connections.add(kw.get("connection_id", ""))
            return self._sequence
        if before is not None:
            before(self, type, kw)
        seq = event(self, type, message, **kw)
        if after is not None:
            after(self, type, kw)
        return seq
    EventReporter.event = patched  # type: ignore[method-assign]


def _raw_event(reporter: EventReporter, kind: int, entity_id: str) -> None:
    reporter._make_event(kind, "mutant", entity_id, "", "", 0, {})


def created_late() -> None:
    def status_first(self: EventReporter, type: int, kw: dict[str, Any]) -> None:
        if type == T.EVENT_TYPE_ENTITY_CREATED:  # mutant: something about it comes first (E-6)
            _raw_event(self, T.EVENT_TYPE_INFO, kw.get("entity_id", ""))
    _event_with(before=status_first)


def created_missing() -> None:
    _event_with(drop=lambda type: type == T.EVENT_TYPE_ENTITY_CREATED)


def events_after_destroyed() -> None:
    def trailing(self: EventReporter, type: int, kw: dict[str, Any]) -> None:
        if type == T.EVENT_TYPE_ENTITY_DESTROYED:  # mutant: one more about it (E-7)
            _raw_event(self, T.EVENT_TYPE_INFO, kw.get("entity_id", ""))
    _event_with(after=trailing)


def flow_started_early() -> None:
    _event_with(drop=lambda type: type == T.EVENT_TYPE_CONNECTION_CREATED)


def timestamps_backwards() -> None:
    stamp = EventReporter._stamp

    def patched(self: EventReporter, ts: Any) -> None:
        stamp(self, ts)
        if self._sequence % 7 == 5:  # mutant: now and then 2 s in the past (E-9)
            ts.FromNanoseconds(ts.ToNanoseconds() - 2_000_000_000)
    EventReporter._stamp = patched  # type: ignore[method-assign]


def secrets_shown() -> None:
    types_mod.EntityType.redact = lambda self, config: dict(config)  # type: ignore[method-assign]


def schema_not_json() -> None:
    async def patched(self: ConfigServicer, request: Any, context: Any) -> Any:
        return config_pb2.GetConfigSchemaResponse(json_schema="level: low|high")  # mutant: C-3
    ConfigServicer.GetConfigSchema = patched  # type: ignore[method-assign]


def invalid_config_applied() -> None:
    apply = ModuleConfig.apply

    async def patched(self: ModuleConfig, changes: dict[str, str], **kw: Any) -> None:
        try:
            await apply(self, changes, **kw)
        except InvalidArgument:
            if not kw.get("validate_only"):  # mutant: applied even though invalid (C-4)
                self.values = dict(changes) if kw.get("replace") else {**self.values, **changes}
            raise
    ModuleConfig.apply = patched  # type: ignore[method-assign]


def revision_unchecked() -> None:
    apply = ModuleConfig.apply

    async def patched(self: ModuleConfig, changes: dict[str, str], **kw: Any) -> None:
        await apply(self, changes, **{**kw, "expected": 0})  # mutant: C-5
    ModuleConfig.apply = patched  # type: ignore[method-assign]
