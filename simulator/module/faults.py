"""The simulated module's faults at work: around every RPC (an interceptor in front of the
SDK's servicers), on timers, and in the module's own state, health, memory and start-up.

    engine = FaultEngine(scenario.faults, seed=scenario.seed)
    server = ModuleServer(module, settings, interceptors=[FaultInterceptor(engine)])
    engine.replace(check_faults({...}))          # at run time (control RPC, SIGUSR1)
"""

from __future__ import annotations

import asyncio
import collections
import fnmatch
import json
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from mediagrid import sdk
from mediagrid.simulator.module.journal import Journal
from mediagrid.simulator.module.scenario import SIGKILL, Fault, FaultSet
from mediagrid.v1 import event_pb2

FOREVER = 10 * 365 * 24 * 3600.0
SETTLE = 0.05  # seconds between checks of flapping and degraded health


def matches(pattern: str, method: str) -> bool:
    """`CreateEntity` (any mediagrid.v1 service), `EntityService/Create*`, or a full
    `grpc.health.v1.Health/Check`; a pattern without a service matches mediagrid RPCs only."""
    service, _, name = method.lstrip("/").partition("/")
    if "/" not in pattern:
        return service.startswith("mediagrid.v1.") and fnmatch.fnmatchcase(name, pattern)
    short = service.rsplit(".", 1)[-1]
    return any(fnmatch.fnmatchcase(f"{s}/{name}", pattern) for s in (short, service))


def die(code: int, journal: Journal | None, why: str) -> None:
    """A real process death: SIGKILL to itself, or an exit with `code` at once."""
    if journal is not None:
        journal.write("crash", how="sigkill" if code == SIGKILL else f"exit {code}", why=why)
    if code == SIGKILL:
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(code)


def block_loop(seconds: float | None) -> None:
    """A hung process: the event loop blocks, so nothing answers, not even HealthCheck."""
    time.sleep(seconds or FOREVER)


def describe(faults: FaultSet) -> str:
    """The faults in force in a few words, for people."""
    if faults.quiet:
        return "none (well-behaved)"
    return ", ".join(key for key in faults.source) or "none (well-behaved)"


class FaultEngine:
    def __init__(self, faults: FaultSet, *, seed: int = 0, journal: Journal | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rng = random.Random(seed)
        self.journal = journal
        self.clock = clock
        self.calls: collections.Counter[str] = collections.Counter()
        self.applied: collections.Counter[str] = collections.Counter()
        self._timers: list[asyncio.TimerHandle] = []
        self._memory: list[bytes] = []
        self._flapped = self._degraded = self._running = False
        self.current, self.since = faults, clock()
        self._matched = [0] * len(faults.faults)
        self.on_replace: Callable[[FaultSet], None] = lambda faults: None
        """Told of every fault set put in force at run time (the module reports it)."""

    def replace(self, faults: FaultSet) -> None:
        """Puts `faults` in force from now (their `after`, `until` and `at` count from now)."""
        self.current, self.since = faults, self.clock()
        self._matched = [0] * len(faults.faults)
        for timer in self._timers:
            timer.cancel()
        self._timers = []
        if self._running:
            self._schedule(asyncio.get_running_loop())
        if self.journal is not None:
            self.journal.write("faults", faults=dict(faults.source))
        self.on_replace(faults)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        for fault in self.current.faults:
            if fault.at is not None:
                self._timers.append(loop.call_later(fault.at, self._timed, fault))

    def _timed(self, fault: Fault) -> None:
        self.applied[fault.action] += 1
        if fault.crash is not None:
            die(fault.crash, self.journal, fault.describe())
        elif fault.hang is not None:
            block_loop(fault.hang[1])

    # -- around every RPC ----------------------------------------------------------------

    async def before(self, method: str, context: grpc.aio.ServicerContext) -> None:
        """Applies every fault matching this call, in order."""
        name = method.rsplit("/", 1)[-1]
        self.calls[name] += 1
        elapsed = self.clock() - self.since
        for index, fault in enumerate(self.current.faults):
            if fault.at is not None or not matches(fault.method, method):
                continue
            if elapsed < fault.after or (fault.until is not None and elapsed >= fault.until):
                continue
            self._matched[index] += 1
            count = self._matched[index]
            if fault.crash is not None:
                if count == fault.after_calls and self.rng.random() < fault.probability:
                    self.applied["crash"] += 1
                    die(fault.crash, self.journal, f"{fault.describe()}, call {count}")
                continue
            if count < fault.after_calls or self.rng.random() >= fault.probability:
                continue
            self.applied[fault.action] += 1
            await self._act(fault, context)

    async def _act(self, fault: Fault, context: grpc.aio.ServicerContext) -> None:
        if fault.latency is not None:
            await asyncio.sleep(fault.latency.draw(self.rng))
        elif fault.error is not None:
            code, message = fault.error
            await context.abort(grpc.StatusCode[code],
                                message or f"simulated fault: {code} ({fault.describe()})")
        elif fault.hang is not None:
            scope, seconds = fault.hang
            if scope == "process":
                block_loop(seconds)  # the whole module stops answering
            else:
                await asyncio.sleep(seconds or FOREVER)  # only this call waits

    # -- the module's own state --------------------------------------------------------

    async def startup(self, runtime: sdk.ModuleRuntime) -> None:
        """The start-up hook: a slow start, or none that ever ends; then an INFO event saying
        which faults are in force (and another each time they are switched)."""
        faults = self.current
        if faults.never_ready:
            await asyncio.Event().wait()  # cancelled by Shutdown or SIGTERM
        await asyncio.sleep(faults.start_delay)

        def report(faults: FaultSet) -> None:
            runtime.reporter.event(event_pb2.EVENT_TYPE_INFO, "simulated module: faults in"
                                   f" force: {describe(faults)}",
                                   details={"faults": json.dumps(dict(faults.source))})

        report(faults)
        self.on_replace = report

    async def run(self, runtime: sdk.ModuleRuntime) -> None:
        """For the module's life: timers, flapping and degraded health, growing memory."""
        self._running = True
        self._schedule(asyncio.get_running_loop())
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._every(SETTLE, lambda: self._settle_health(runtime)))
            tasks.create_task(self._every(1.0, self._grow))

    @staticmethod
    async def _every(period: float, step: Callable[[], Awaitable[None] | None]) -> None:
        while True:
            step()
            await asyncio.sleep(period)

    def _settle_health(self, runtime: sdk.ModuleRuntime) -> None:
        status, faults = runtime.status, self.current
        flapping = faults.flapping
        down = False
        if flapping is not None:
            up, off = flapping
            down = (self.clock() - self.since) % (up + off) >= up
        if down and status.state is sdk.ModuleState.READY:
            self._flapped = True
            status.transition(sdk.ModuleState.ERROR, "flapping: its dependency went away")
        elif not down and self._flapped and status.state is sdk.ModuleState.ERROR:
            self._flapped = False
            status.transition(sdk.ModuleState.READY)
        if status.state is not sdk.ModuleState.READY:
            return
        if faults.degraded and (status.health is not sdk.Health.DEGRADED
                                or status.error_message != faults.degraded):
            status.set_health(sdk.Health.DEGRADED, faults.degraded)
            self._degraded = True
        elif not faults.degraded and self._degraded:
            status.set_health(sdk.Health.HEALTHY)
            self._degraded = False

    def _grow(self) -> None:
        faults = self.current
        if not faults.memory_grow:
            self._memory.clear()
            return
        if len(self._memory) * faults.memory_grow + faults.memory_grow <= faults.memory_limit:
            self._memory.append(b"\x01" * faults.memory_grow)  # written: resident, not lazy

    @property
    def memory_held(self) -> int:
        return sum(len(chunk) for chunk in self._memory)

    def snapshot(self) -> dict[str, Any]:
        return {"faults": dict(self.current.source), "calls": dict(self.calls),
                "applied": dict(self.applied), "memory_held": self.memory_held}


class FaultInterceptor(grpc.aio.ServerInterceptor):
    """Applies the engine's faults before the SDK's servicer answers (unary calls; the
    streaming grpc.health.v1 Watch and reflection pass through)."""

    def __init__(self, engine: FaultEngine) -> None:
        self.engine = engine

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or handler.request_streaming or handler.response_streaming:
            return handler
        inner, method, engine = handler.unary_unary, details.method, self.engine

        async def faulty(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await engine.before(method, context)
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            faulty, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)
