"""Event subscribers that follow the orchestrator's whole event log with their cursor, as a
service would: from the oldest retained envelope ("0"), reconnecting with the last cursor
after every break (the orchestrator restarting, a churn drop, a signal), and recording every
envelope exactly as it came, for the history checker."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import grpc

from mediagrid.v1 import event_pb2, orchestrator_pb2, orchestrator_pb2_grpc

ORCHESTRATOR_EVENTS = (event_pb2.EVENT_TYPE_MODULE_STATE_CHANGED,
                       event_pb2.EVENT_TYPE_MODULE_RESTARTED)


@dataclass(frozen=True)
class Seen:
    """One envelope as a subscriber received it."""

    cursor: str
    module: str
    instance: str
    sequence: int
    kind: str  # event | status | metrics
    type: int = 0  # event type, for events
    at: float = 0.0  # the report's own timestamp (seconds)
    details: tuple[tuple[str, str], ...] = ()  # kept for orchestrator events and WARNINGs

    def detail(self, key: str) -> str:
        return dict(self.details).get(key, "")


def seen(envelope: orchestrator_pb2.EventEnvelope) -> Seen:
    report = envelope.report
    kind = report.WhichOneof("report") or ""
    header = report.header
    body = getattr(report, kind) if kind else None
    at = body.timestamp.ToNanoseconds() / 1e9 if body is not None else 0.0
    event_type, details = 0, ()
    if kind == "event":
        event_type = report.event.type
        if event_type in (*ORCHESTRATOR_EVENTS, event_pb2.EVENT_TYPE_WARNING):
            details = tuple(sorted(report.event.details.items()))
    return Seen(envelope.cursor, header.module_id, header.instance_id, header.sequence,
                kind, event_type, at, details)


@dataclass
class Subscriber:
    index: int
    address: str
    churn: float = 0.0
    seed: int = 0
    history: list[Seen] = field(default_factory=list)
    cursor: str = "0"
    reconnects: int = 0
    drops: int = 0  # churn drops made on purpose
    errors: list[str] = field(default_factory=list)
    live: bool = False  # reached the live end at least once

    def __post_init__(self) -> None:
        self.rng = random.Random(f"{self.seed}/subscriber/{self.index}")
        self._call: Any = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._follow(stop)
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.OUT_OF_RANGE:
                    self.errors.append(f"cursor {self.cursor} refused: {exc.details()}")
                    return  # it would have to resync: the history checker says so
            except Exception as exc:  # a subscriber never dies of a surprise: it says so
                self.errors.append(f"{type(exc).__name__}: {exc}")
            if stop.is_set():
                return
            self.reconnects += 1
            await asyncio.sleep(0.1)

    async def _follow(self, stop: asyncio.Event) -> None:
        request = orchestrator_pb2.SubscribeToEventsRequest(
            since_cursor=self.cursor, subscriber=f"chaos-{self.index}", max_batch=500)
        request.filter.include_status = request.filter.include_metrics = True
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            self._call = call = stub.SubscribeToEvents(request)
            churn = self._schedule_churn(call)
            stopping = asyncio.ensure_future(stop.wait())
            stopping.add_done_callback(lambda _: call.cancel())
            try:
                async for message in call:
                    for envelope in message.envelopes:
                        self.history.append(seen(envelope))
                    if message.resume_cursor:
                        self.cursor = message.resume_cursor
                    if message.bookmark:
                        self.live = True
                    if message.signal:
                        return  # LAGGED or SHUTTING_DOWN: resume from the cursor
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # this subscriber is being stopped
                # else the stream was cancelled on purpose (churn, stop): resume or end
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.CANCELLED:
                    raise
            finally:
                stopping.cancel()
                if churn is not None:
                    churn.cancel()

    def _schedule_churn(self, call: Any) -> asyncio.TimerHandle | None:
        if self.churn <= 0:
            return None

        def drop() -> None:
            self.drops += 1
            call.cancel()

        return asyncio.get_running_loop().call_later(self.churn * self.rng.uniform(0.5, 1.5),
                                                     drop)

    def drop_now(self) -> None:
        """A subscriber-churn step: break the stream; it comes back from its cursor."""
        if self._call is not None:
            self.drops += 1
            self._call.cancel()

    def delivered(self) -> set[tuple[str, int]]:
        return {(s.instance, s.sequence) for s in self.history}


async def wait_caught_up(subscribers: list[Subscriber], wanted: set[tuple[str, int]],
                         within: float) -> bool:
    """Until every subscriber has every (instance, sequence) in `wanted`."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(wanted <= s.delivered() for s in subscribers):
            return True
        await asyncio.sleep(0.1)
    return False
