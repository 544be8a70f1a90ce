"""An acknowledged report survives an orchestrator SIGKILL, and a subscriber resumes across it
with its cursor: nothing lost, nothing twice (rules E-4, E-12).

The bus runs in a child process (`python -m mediagrid.reference.orchestrator.events.serve`)
that the test SIGKILLs while three SDK reporters are reporting and a subscriber is reading,
then starts again on the same state file and port.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import grpc

from mediagrid.sdk.sender import RECONNECT_OPTIONS
from mediagrid.v1 import event_pb2, orchestrator_pb2, orchestrator_pb2_grpc
from tests.orchestrator.events.harness import BusProcess, reporter
from tests.support import eventually, free_port

MODULES = 3
PER_MODULE = 300


class Follower:
    """A subscriber that reconnects with the last cursor it saw whenever its stream breaks."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.seen: list[tuple[str, int]] = []
        self.cursor = "0"
        self.reconnects = 0

    async def run(self, total: int) -> None:
        async with grpc.aio.insecure_channel(self.address, options=RECONNECT_OPTIONS) as ch:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(ch)
            while len(self.seen) < total:
                request = orchestrator_pb2.SubscribeToEventsRequest(since_cursor=self.cursor)
                try:
                    async for message in stub.SubscribeToEvents(request):
                        self.seen += [(e.report.header.instance_id, e.report.header.sequence)
                                      for e in message.envelopes]
                        self.cursor = message.resume_cursor or self.cursor
                        if len(self.seen) >= total:
                            return
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() is grpc.StatusCode.UNAVAILABLE, exc
                    self.reconnects += 1
                    await asyncio.sleep(0.05)  # the orchestrator is coming back


async def produce(address: str, module: str, made: dict[str, int]) -> None:
    async with reporter(address, module, f"{module}-instance") as rep:
        for i in range(PER_MODULE):
            rep.event(event_pb2.EVENT_TYPE_INFO, f"{module} event {i}")
            made[module] = i + 1
            if i % 10 == 9:  # ~0.6 s in all: the kill comes while they report
                await asyncio.sleep(0.02)
        assert await rep.flush(30), f"{module}: reports still unacknowledged"


def test_e4_e12_a_sigkilled_orchestrator_loses_nothing_and_repeats_nothing(
        tmp_path: Path) -> None:
    bus = BusProcess(tmp_path / "state.sqlite", free_port())
    bus.start()
    total = MODULES * PER_MODULE
    made: dict[str, int] = {}

    async def scenario() -> tuple[int, int, Follower]:
        follower = Follower(bus.address)
        async with asyncio.TaskGroup() as tg:
            following = tg.create_task(follower.run(total))
            for m in range(MODULES):
                tg.create_task(produce(bus.address, f"mod-{m}", made))
            await eventually(lambda: len(follower.seen) >= total // 4, within=30, period=0.005)
            seen_at_kill, made_at_kill = len(follower.seen), sum(made.values())
            bus.kill()  # SIGKILL, mid-stream
            await bus.restart()
            async with asyncio.timeout(60):
                await following
        return seen_at_kill, made_at_kill, follower

    try:
        seen_at_kill, made_at_kill, follower = asyncio.run(scenario())
    finally:
        bus.kill()
    print(f"killed at {seen_at_kill} seen, {made_at_kill} made; {follower.reconnects} reconnects")
    assert seen_at_kill < total and made_at_kill < total, "the kill came after the work"
    assert follower.reconnects >= 1
    by_instance: dict[str, list[int]] = {}
    for instance, seq in follower.seen:
        by_instance.setdefault(instance, []).append(seq)
    expected = list(range(1, PER_MODULE + 1))
    assert by_instance == {f"mod-{m}-instance": expected for m in range(MODULES)}


def test_the_bus_process_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import signal

    bus = BusProcess(tmp_path / "state.sqlite", free_port())
    bus.start()
    try:
        assert bus.process is not None
        bus.process.send_signal(signal.SIGTERM)
        assert bus.process.wait(15) == 0
    finally:
        with contextlib.suppress(Exception):
            bus.kill()
