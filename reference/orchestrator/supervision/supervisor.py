"""One module under supervision: start it, watch it, restart it, stop it (rules H-13 to H-21).

A supervisor runs one asyncio task for its module's whole life in the orchestrator:

    spawn (§2.1 environment, own process group, dies with us; exit 98: another port at once)
    -> start-up HealthCheck retry until READY (H-21)
    -> re-create the module's desired state (H-15), then READY to subscribers
    -> every health_period a HealthCheck (H-13); the process exit is awaited at the same time,
       so a crash is noticed at once (H-14); a new instance_id means it restarted behind our back
    -> on a failure: restart policy, backoff and give-up (restart.py), or ERROR until
       RestartModule; on stop: the shutdown ladder (H-18).

State and health changes are published as MODULE_STATE_CHANGED, restarts as MODULE_RESTARTED
(E-17; module_events.py). Stop and restart requests cut every wait short (requests.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import IO

from mediagrid.backoff import Clock
from mediagrid.manifest.model import ModuleManifest
from mediagrid.manifest.process import EXIT_PORT_IN_USE, ChannelFactory, ModuleProcess, StartError
from mediagrid.process import free_port
from mediagrid.reference.orchestrator import health
from mediagrid.reference.orchestrator.module_events import StateReporter
from mediagrid.reference.orchestrator.modules import (
    DEGRADED,
    ERROR,
    HEALTHY,
    READY,
    STARTING,
    STOPPING,
    UNHEALTHY,
    ModuleView,
)
from mediagrid.reference.orchestrator.settings import OrchestratorSettings
from mediagrid.reference.orchestrator.supervision.instance import Instance
from mediagrid.reference.orchestrator.supervision.requests import Request, Requests
from mediagrid.reference.orchestrator.supervision.restart import (
    Failure,
    FailureKind,
    RestartPlanner,
    describe_exit,
    wants_restart,
)
from mediagrid.v1 import module_pb2

log = logging.getLogger("mediagrid.orchestrator")


class RecoveryFailed(Exception):
    """The desired state could not be re-created in a new instance (it stopped answering)."""


Recover = Callable[["ModuleSupervisor"], Awaitable[None]]


class ModuleSupervisor:
    def __init__(self, manifest: ModuleManifest, *, settings: OrchestratorSettings,
                 orchestrator_address: str, reporter: StateReporter, recover: Recover,
                 channel: ChannelFactory, clock: Clock = time.monotonic,
                 rng: random.Random | None = None, out: IO[bytes] | None = None) -> None:
        self.manifest = manifest
        self.settings = settings
        self.orchestrator_address = orchestrator_address
        self.reporter = reporter
        self.recover = recover
        self.channel = channel
        self.out = out if out is not None else sys.stderr.buffer
        self.planner = RestartPlanner(manifest.supervision, clock=clock, rng=rng)
        self.judge = health.HealthJudge(manifest.supervision.failure_threshold)
        self.view = ModuleView(manifest, state=0, health=0)
        self.instance: Instance | None = None  # the running process and its channel
        self.recovered_instance = ""  # instance_id whose desired state is re-created
        self.delays: list[float] = []  # every restart delay used, for diagnostics and tests
        self.requests = Requests()
        self._task: asyncio.Task[None] | None = None
        self._previous_instance = ""

    @property
    def id(self) -> str:
        return self.manifest.id

    # -- control, from the orchestrator and its API --------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"supervise {self.id}")

    async def stop(self, reason: str = "the orchestrator is stopping") -> None:
        """Stops the module by the shutdown ladder and ends supervision."""
        self.requests.ask(Request.STOP, reason)
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def restart(self, reason: str = "") -> None:
        """RestartModule: from any state, also ERROR after giving up. Returns once the new
        process is spawned (STARTING)."""
        if self.requests.stopping or self._task is None or self._task.done():
            return
        spawned = self.requests.when_spawned()
        self.requests.ask(Request.RESTART, reason or "RestartModule")
        await asyncio.shield(spawned)

    def kill_now(self) -> None:
        """SIGKILL to the module's process group at once (a second Ctrl-C)."""
        if self.instance is not None:
            self.instance.process.signal_group(signal.SIGKILL)

    # -- the supervision loop ------------------------------------------------------------

    async def _run(self) -> None:
        reason, failure = "", None
        try:
            while not self.requests.stopping:
                if failure is not None:
                    reason = await self._after(failure)
                    if reason is None:
                        break
                    self.view.restart_count += 1
                failure = await self._life(reason)
        finally:
            self.requests.spawned()  # a RestartModule waiting on a retired module answers

    async def _after(self, failure: Failure) -> str | None:
        """Decides on a failure; waits the backoff (or for RestartModule after giving up).
        Returns the restart's reason, or None when supervision is to end."""
        if failure.kind is FailureKind.OPERATOR:
            self.planner.reset()
            return failure.message
        plan = self.planner.plan(failure)
        if not plan.restart:
            # Announced even when the module was already ERROR/UNHEALTHY (a crash while READY
            # sets that first): subscribers must learn that supervision stopped (H-17, E-17).
            await self._set(ERROR, UNHEALTHY, f"{failure.message}; {plan.why}",
                            extra={"gave_up": "true"})
            self._say(f"{failure.message}; {plan.why}")
            while not await self.requests.interrupted():
                pass
            if self.requests.stopping:
                return None
            self.planner.reset()
            return self.requests.take_restart()
        self.delays.append(plan.delay)
        when = "now" if plan.delay == 0 else f"in {plan.delay:.2f} s"
        self.view.error_message = f"{failure.message}; restart {when}"
        self._say(f"{failure.message}; restarting {when}")
        if await self.requests.interrupted(within=plan.delay):
            if self.requests.stopping:
                return None
            self.planner.reset()
            return self.requests.take_restart()
        return failure.message

    async def _life(self, reason: str) -> Failure | None:
        """One process, from spawn to its end. Returns why it ended (None: stopped)."""
        started = await self._spawn()
        if isinstance(started, module_pb2.HealthCheckResponse):
            try:
                await self._became_ready(started, reason)
                started = await self._watch()
            except RecoveryFailed as exc:
                started = Failure(FailureKind.START, f"re-creating its desired state failed: {exc}")
            except Exception as exc:  # a bug here must not leave the module unsupervised
                log.exception("supervising %s failed", self.id)
                started = Failure(FailureKind.START, f"the orchestrator failed: {exc!r}")
        return await self._end(started)

    async def _spawn(self) -> module_pb2.HealthCheckResponse | Failure | None:
        settings = self.settings
        if self.view.instance_id:
            self._previous_instance = self.view.instance_id
        for attempt in range(settings.port_retries + 1):
            process = ModuleProcess(
                self.manifest, free_port(settings.module_bind_host),
                orchestrator=self.orchestrator_address, bind_host=settings.module_bind_host,
                out=self.out, token=settings.token, prefix=f"[{self.id}] ",
                extra_env={**settings.extra_module_env,
                           **(settings.tls.module_env() if settings.tls else {})},
                channel=self.channel)
            self.instance = Instance(process, self.channel, settings.token)
            self.view.address, self.view.instance_id = process.address, ""
            try:
                await process.start()
            except StartError as exc:
                return Failure(FailureKind.START, str(exc))
            self.view.pid, self.view.started_at = process.pid, time.time()
            await self._set(STARTING, HEALTHY, "")
            self.requests.spawned()
            ready = asyncio.ensure_future(process.wait_ready())
            if await self.requests.interrupted(ready):
                ready.cancel()
                await asyncio.gather(ready, return_exceptions=True)
                return None
            try:
                return ready.result()
            except StartError as exc:
                if exc.exit_code == EXIT_PORT_IN_USE and attempt < settings.port_retries:
                    self._say(f"port {process.port} was taken (exit 98); another port, at once")
                    await process.release()
                    continue
                return Failure(FailureKind.START, exc.reason, exc.exit_code)
        return None  # not reached: the last attempt returns

    async def _became_ready(self, response: module_pb2.HealthCheckResponse, reason: str) -> None:
        """A new instance answered READY: announce the restart, re-create the desired state,
        and only then report READY (rule H-15)."""
        assert self.instance is not None
        old = self._previous_instance
        self.instance.open()
        self.view.instance_id = response.status.instance_id
        self.view.entity_types = list(response.entity_types)
        self.view.heartbeat()
        if reason:
            await self.reporter.restarted(self.view, old, reason)
        await self.recover(self)
        self.judge.reset()
        await self._set(READY, HEALTHY, "")

    async def _watch(self) -> Failure | None:
        """Health checks every health_period while waiting on the process; returns the
        failure that ends this life (None: a stop or restart was asked). One wait for the
        whole life: the exit, a request or a failed health verdict ends it; the checks
        themselves are a plain loop (cheap: 100 modules cost one core's few percent)."""
        assert self.instance is not None
        exited = asyncio.ensure_future(self.instance.process.wait())
        checks = asyncio.ensure_future(self._checks())
        try:
            await self.requests.interrupted(exited, checks)
        finally:
            for task in (checks, exited):
                if not task.done():
                    task.cancel()
            await asyncio.gather(checks, exited, return_exceptions=True)
        if exited.done() and not exited.cancelled():
            return await self._exited(exited.result())
        if checks.done() and not checks.cancelled():
            return checks.result()  # an UNHEALTHY module to restart (or a bug, raised)
        return None

    async def _checks(self) -> Failure:
        sup, instance = self.manifest.supervision, self.instance
        assert instance is not None
        while True:
            await asyncio.sleep(sup.health_period)
            result = await health.check(instance.module, sup.health_timeout, instance.metadata)
            failure = await self._judge(result)
            if failure is not None:
                return failure

    async def _judge(self, result: health.CheckResult) -> Failure | None:
        verdict = self.judge.judge(result)
        response = result.response
        if result.good and response is not None:
            if response.status.instance_id != self.view.instance_id:
                await self._behind_our_back(response)
                return None
            self.view.heartbeat()
            self.planner.healthy()
            if response.status.health in (DEGRADED, UNHEALTHY):  # the module's own verdict
                await self._set(READY, DEGRADED, response.status.error_message)
            else:
                await self._set(READY, HEALTHY, "")
            return None
        self.planner.unhealthy()
        state = response.status.state if response is not None else self.view.state
        if verdict == UNHEALTHY:
            message = (f"{self.judge.failures} health checks in a row failed (failure_threshold"
                       f" {self.judge.failure_threshold}); last: {result.problem}")
            failure = Failure(FailureKind.UNHEALTHY, message)
            await self._set(state, UNHEALTHY, message)
            if wants_restart(self.manifest.supervision.restart_policy, failure):
                self._say(message)
                return failure
            return None
        await self._set(state, DEGRADED, result.problem)
        return None

    async def _behind_our_back(self, response: module_pb2.HealthCheckResponse) -> None:
        """A new instance_id on a good check: the module restarted without the orchestrator
        (rule H-6); its entities are gone. Re-create them before it is READY again."""
        self._say(f"instance changed from {self.view.instance_id} to"
                  f" {response.status.instance_id}: it restarted behind the orchestrator's back")
        await self._set(STARTING, HEALTHY, "re-creating its desired state")
        old = self.view.instance_id
        self.view.instance_id = response.status.instance_id
        self.view.started_at = time.time()
        await self.reporter.restarted(self.view, old, "the module restarted by itself (new"
                                      " instance_id)")
        await self.recover(self)
        await self._set(READY, HEALTHY, "")

    async def _exited(self, code: int) -> Failure:
        """The process is gone: noticed at once (rule H-14)."""
        message = describe_exit(code)
        await self._set(ERROR, UNHEALTHY, message)
        return Failure(FailureKind.EXIT, message, code)

    async def _end(self, ended: Failure | None) -> Failure | None:
        """Stops what is left of the process (ladder), keeps its last words."""
        instance, self.instance = self.instance, None
        if instance is not None:
            process = instance.process
            if process.returncode is None and not process.exited and process.started:
                await self._set(STOPPING, self.view.health, self.requests.reason or
                                (ended.message if ended else "stopping"))
                why = self.requests.reason or (ended.message if ended else "restart")
                code = await process.stop(f"stopped by the orchestrator: {why}")
                self._say(f"stopped (exit status {code})")
            with contextlib.suppress(Exception):
                await process.drain(1.0)
            if ended is not None and ended.kind is not FailureKind.OPERATOR:
                tail = "\n".join(process.stderr_tail)
                self.view.last_error = f"{ended.message}\n{tail}" if tail else ended.message
            await process.release()
            await instance.close()
        self.view.pid = 0
        if self.requests.stopping:
            return None
        if self.requests.kind is Request.RESTART:
            return Failure(FailureKind.OPERATOR, self.requests.take_restart())
        return ended

    # -- state ---------------------------------------------------------------------------

    async def _set(self, state: int, health_status: int, message: str,
                   extra: dict[str, str] | None = None) -> None:
        """Sets the view; publishes MODULE_STATE_CHANGED when state or health changed, or
        always when `extra` details are given (a give-up that leaves ERROR as it was)."""
        view = self.view
        old = (view.state, view.health)
        view.state, view.health, view.error_message = state, health_status, message
        if (state, health_status) != old or extra:
            await self.reporter.changed(view, *old, extra=extra)

    def _say(self, text: str) -> None:
        self.reporter.say(self.view, text)
