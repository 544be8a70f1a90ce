"""The simulated module's report sender: the SDK's gRPC sender with the `reports` faults in
front (late, blackout, lose) and the journal behind: every acknowledged call is written down
by instance and sequence range, the ground truth of the chaos runner's history checker."""

from __future__ import annotations

import asyncio

import grpc

from mediagrid.sdk import ReportSender
from mediagrid.simulator.module.faults import FaultEngine
from mediagrid.simulator.module.journal import Journal
from mediagrid.v1 import event_pb2


class Blackout(Exception):
    """A report call that did not leave (fault `blackout`): the reporter retries it later."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "simulated fault: reports blacked out"


class FaultyReportSender:
    def __init__(self, inner: ReportSender, engine: FaultEngine,
                 journal: Journal | None) -> None:
        self.inner, self.engine, self.journal = inner, engine, journal

    async def send(self, reports: list[event_pb2.ModuleReport]) -> None:
        faults = self.engine.current
        if faults.reports_late:
            await asyncio.sleep(faults.reports_late)
            faults = self.engine.current
        if faults.reports_blackout:
            raise Blackout()
        first, last = reports[0].header, reports[-1].header
        if faults.reports_lose and self.engine.rng.random() < faults.reports_lose:
            if self.journal is not None:
                self.journal.write("lost", first=first.sequence, last=last.sequence)
            return  # as if acknowledged: the reporter forgets them (an undeclared gap)
        await self.inner.send(reports)
        if self.journal is not None:
            self.journal.write("ack", first=first.sequence, last=last.sequence)

    async def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            await close()
