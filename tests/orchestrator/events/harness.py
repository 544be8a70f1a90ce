"""Helpers for the event bus tests: the bus on a real loopback port, streams, reporters.

Every test runs real grpc.aio servers and clients on free loopback ports; reports come from
the SDK's real `EventReporter` with its real `GrpcReportSender`, or from raw EventService
calls where a test needs exact sequence numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from mediagrid import sdk
from mediagrid.process import die_with_parent_preexec
from mediagrid.reference.orchestrator.events import EventBus, EventSettings
from mediagrid.reference.orchestrator.events.serve import serving
from mediagrid.v1 import event_pb2, event_pb2_grpc, orchestrator_pb2, orchestrator_pb2_grpc

Response = orchestrator_pb2.SubscribeToEventsResponse
STALLED = (("grpc.http2.bdp_probe", 0),)
"""Channel options of a client that stops reading: without BDP probing the HTTP/2 window
stays at 64 KiB, so the server feels the stall after ~100 KB instead of several MB."""


@contextlib.asynccontextmanager
async def bus_server(path: Path, settings: EventSettings | None = None, *,
                     address: str = "127.0.0.1:0", **kw: Any
                     ) -> AsyncIterator[tuple[EventBus, str]]:
    """An EventBus on `path`, served on a loopback port; closed (bus first) on exit."""
    bus = await EventBus.open(path, settings or EventSettings(), **kw)
    async with serving(bus, address) as bound:
        yield bus, bound


@contextlib.asynccontextmanager
async def connected(path: Path, settings: EventSettings | None = None, **kw: Any
                    ) -> AsyncIterator[tuple[EventBus, grpc.aio.Channel]]:
    """bus_server() and a client channel to it."""
    async with bus_server(path, settings, **kw) as (bus, address), \
            grpc.aio.insecure_channel(address) as channel:
        yield bus, channel


@dataclass
class Stream:
    """One SubscribeToEvents call, read message by message."""

    call: Any
    messages: list[Response] = field(default_factory=list)

    @classmethod
    def open(cls, channel: grpc.aio.Channel, **request: Any) -> Stream:
        filt = request.pop("filter", None)
        req = orchestrator_pb2.SubscribeToEventsRequest(**request)
        if filt is not None:
            req.filter.CopyFrom(filt)
        return cls(orchestrator_pb2_grpc.OrchestratorServiceStub(channel).SubscribeToEvents(req))

    @classmethod
    async def live(cls, channel: grpc.aio.Channel, **request: Any) -> Stream:
        """A stream that has reached the live end (its first bookmark was read)."""
        stream = cls.open(channel, **request)
        assert await stream.until_bookmark() == []
        return stream

    async def next(self, within: float = 15.0) -> Response:
        async with asyncio.timeout(within):
            message = await self.call.read()
        if message is grpc.aio.EOF:
            raise EOFError("the stream ended")
        self.messages.append(message)
        return message

    async def envelopes(self, n: int, within: float = 20.0) -> list[Any]:
        """Reads whole messages until at least `n` more envelopes came (bookmarks skipped)."""
        out: list[Any] = []
        async with asyncio.timeout(within):
            while len(out) < n:
                message = await self.next()
                assert not message.signal, f"unexpected signal {message}"
                out.extend(message.envelopes)
        return out

    async def until_bookmark(self, within: float = 20.0) -> list[Any]:
        """Envelopes up to the next bookmark (a catch-up ends with one at the live end)."""
        out: list[Any] = []
        async with asyncio.timeout(within):
            while True:
                message = await self.next()
                assert not message.signal, f"unexpected signal {message}"
                if message.bookmark:
                    return out
                out.extend(message.envelopes)

    async def ended(self, within: float = 15.0) -> tuple[grpc.StatusCode, str]:
        """Reads to the end of the stream; the status code and details it ended with."""
        async with asyncio.timeout(within):
            try:
                while (message := await self.call.read()) is not grpc.aio.EOF:
                    self.messages.append(message)
            except grpc.aio.AioRpcError as exc:
                return exc.code(), exc.details() or ""
        return await self.call.code(), await self.call.details()


async def rpc_error(awaitable: Any) -> grpc.aio.AioRpcError:
    try:
        await awaitable
    except grpc.aio.AioRpcError as exc:
        return exc
    raise AssertionError("the call succeeded; expected an error")


def sequences(envelopes: Iterable[Any]) -> list[int]:
    return [e.report.header.sequence for e in envelopes]


def report(seq: int, instance: str = "inst-1", module: str = "mod", message: str = "",
           **event: Any) -> event_pb2.ModuleReport:
    r = event_pb2.ModuleReport()
    r.header.module_id, r.header.instance_id, r.header.sequence = module, instance, seq
    r.event.type = event.pop("type", event_pb2.EVENT_TYPE_INFO)
    r.event.severity = event.pop("severity", event_pb2.EVENT_SEVERITY_INFO)
    r.event.message = message or f"report {seq}"
    r.event.details.update(event.pop("details", {}))
    for name, value in event.items():
        setattr(r.event, name, value)
    return r


def event_stub(channel: grpc.aio.Channel) -> event_pb2_grpc.EventServiceStub:
    return event_pb2_grpc.EventServiceStub(channel)


async def send(channel: grpc.aio.Channel, reports: list[event_pb2.ModuleReport]
               ) -> event_pb2.ReportBatchResponse:
    return await event_stub(channel).ReportBatch(
        event_pb2.ReportBatchRequest(reports=reports), timeout=10)


@contextlib.asynccontextmanager
async def reporter(address: str, module_id: str = "mod", instance_id: str = "inst-1",
                   **kw: Any) -> AsyncIterator[sdk.EventReporter]:
    """The SDK's EventReporter sending to `address`, its sender loop running."""
    sender = kw.pop("sender", None) or sdk.GrpcReportSender(address, timeout=5)
    rep = sdk.EventReporter(module_id, instance_id, sender=sender, **kw)
    task = asyncio.create_task(rep.run())
    try:
        yield rep
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await sender.close()


class BusProcess:
    """The bus served by a child process (`...events.serve`), to be SIGKILLed by a test."""

    def __init__(self, state: Path, port: int, *args: str) -> None:
        self.state, self.port, self.args = state, port, args
        self.address = f"127.0.0.1:{port}"
        self.process: subprocess.Popen[str] | None = None

    def start(self, within: float = 20.0) -> None:
        """Starts the child and waits for its ready line (blocking)."""
        self.spawn()
        self.wait_ready(within)

    async def restart(self, within: float = 20.0) -> None:
        """Starts it again from the event loop's thread (the parent-death signal is tied to
        the thread that forks), waiting for the ready line in a worker thread."""
        self.spawn()
        await asyncio.to_thread(self.wait_ready, within)

    @property
    def log(self) -> Path:
        return self.state.with_name(f"bus-{self.port}.log")

    def spawn(self) -> None:
        with self.log.open("a") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mediagrid.reference.orchestrator.events.serve",
                 "--state", str(self.state), "--address", self.address, *self.args],
                stdout=subprocess.PIPE, stderr=stderr, text=True,
                start_new_session=True, preexec_fn=die_with_parent_preexec())

    def wait_ready(self, within: float) -> None:
        assert self.process is not None and self.process.stdout is not None
        ready = select.select([self.process.stdout], [], [], within)[0]
        line = self.process.stdout.readline() if ready else ""  # "ready on HOST:PORT"
        if not line.startswith("ready on"):
            self.kill()
            raise AssertionError(f"bus process did not start within {within} s: "
                                 f"{self.log.read_text()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
