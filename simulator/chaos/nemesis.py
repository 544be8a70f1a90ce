"""The nemesis: plays the planned timeline (plan.py) against the running system, only with
process signals, the fault proxies' control API, the simulated modules' control RPC and
`OrchestratorService`; keeps what each action must undo, and heals everything at the end.

| kind | what it does | undone by |
|---|---|---|
| kill | SIGKILL to the module's process group | - (the orchestrator restarts it) |
| pause | SIGSTOP to the group (a hung module) | SIGCONT after `for` |
| toxic | a toxic on the module's fault proxy | removed after `for` |
| faults | a fault set on the simulated module (control RPC) | its scenario's own faults |
| orchestrator-restart | SIGKILL to the orchestrator, started again after `for` | - |
| rescan | RescanModules (after editing the module's module.yaml, with change) | - |
| subscriber-churn | every subscriber's stream broken (they resume from their cursor) | - |
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from mediagrid.simulator.chaos.journals import read_journals
from mediagrid.simulator.chaos.modules import touch_manifest
from mediagrid.simulator.chaos.orchestrator import OrchestratorProcess
from mediagrid.simulator.chaos.plan import Action
from mediagrid.simulator.chaos.scenario import ChaosScenario
from mediagrid.simulator.chaos.subscribers import Subscriber
from mediagrid.simulator.module.control import ControlClient
from mediagrid.simulator.module.scenario import SWITCHABLE
from mediagrid.simulator.proxy.api import ProxyClient
from mediagrid.v1 import orchestrator_pb2, orchestrator_pb2_grpc

Undo = Callable[[], Awaitable[None]]


@dataclass
class Injected:
    """One action as it happened: when, on what, the instance it found, and its outcome."""

    action: Action
    at: float  # wall clock
    old_instance: str = ""
    modules: list[str] = field(default_factory=list)  # the ones it affects
    serving_after: float | None = None  # orchestrator-restart: seconds until it served
    error: str = ""


class Nemesis:
    def __init__(self, scenario: ChaosScenario, orchestrator: OrchestratorProcess, *,
                 folders: Mapping[str, Path], journal: Path,
                 subscribers: list[Subscriber]) -> None:
        self.scenario, self.orchestrator = scenario, orchestrator
        self.folders, self.journal, self.subscribers = folders, journal, subscribers
        self.injected: list[Injected] = []
        self._undo: dict[int, tuple[asyncio.Task[None], Undo]] = {}
        self.on_inject: Callable[[Injected], None] = lambda _: None

    async def play(self, actions: list[Action], started: float) -> None:
        """Each action at its time (seconds after `started`, monotonic)."""
        for n, action in enumerate(actions):
            delay = started + action.at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            injected = Injected(action, time.time())
            try:
                undo = await self._apply(action, injected)
            except (OSError, grpc.RpcError, ValueError) as exc:
                injected.error = f"{type(exc).__name__}: {exc}"
                undo = None
            self.injected.append(injected)
            self.on_inject(injected)
            if undo is not None:
                self._undo[n] = (asyncio.ensure_future(self._later(action.lasting, n)), undo)

    async def _later(self, seconds: float, n: int) -> None:
        await asyncio.sleep(seconds)
        _, undo = self._undo.pop(n)
        await _quietly(undo)

    async def heal(self) -> None:
        """Undoes what is still in force, at once; the orchestrator runs again."""
        for n, (task, undo) in list(self._undo.items()):
            task.cancel()
            self._undo.pop(n, None)
            await _quietly(undo)
        if not self.orchestrator.running:
            self.orchestrator.start()
            await self.orchestrator.wait_serving()

    # -- the actions ------------------------------------------------------------------------

    async def _module(self, module_id: str) -> orchestrator_pb2.GetModuleResponse:
        async with grpc.aio.insecure_channel(self.orchestrator.address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            return await stub.GetModule(orchestrator_pb2.GetModuleRequest(module_id=module_id),
                                        timeout=3)

    async def _group(self, module_id: str, injected: Injected) -> int:
        """The module's process group: from ModuleInfo.pid, else its own journal."""
        pid = 0
        with contextlib.suppress(grpc.RpcError):
            info = (await self._module(module_id)).module
            pid, injected.old_instance = info.pid, info.status.instance_id
        pid = pid or read_journals(self.journal).latest_pid(module_id)
        if not pid:
            raise ValueError(f"no process known for module {module_id}")
        return os.getpgid(pid)

    async def _apply(self, action: Action, injected: Injected) -> Undo | None:
        kind, module_id = action.kind, action.module
        injected.modules = [module_id] if module_id else []
        if kind == "kill":
            os.killpg(await self._group(module_id, injected), signal.SIGKILL)
            return None
        if kind == "pause":
            group = await self._group(module_id, injected)
            os.killpg(group, signal.SIGSTOP)
            return lambda: _signal(group, signal.SIGCONT)
        if kind == "toxic":
            return await self._toxic(action, injected)
        if kind == "faults":
            return await self._faults(action, injected)
        if kind == "orchestrator-restart":
            return await self._restart_orchestrator(action, injected)
        if kind == "rescan":
            with contextlib.suppress(grpc.RpcError):
                injected.old_instance = (await self._module(module_id)).module.status.instance_id
            step = self.scenario.nemesis[action.step]
            if step.change:
                touch_manifest(self.folders[module_id], f"changed at {injected.at:.3f}")
            async with grpc.aio.insecure_channel(self.orchestrator.address) as channel:
                await orchestrator_pb2_grpc.OrchestratorServiceStub(channel).RescanModules(
                    orchestrator_pb2.RescanModulesRequest(), timeout=30)
            return None
        if kind == "subscriber-churn":
            for subscriber in self.subscribers:
                subscriber.drop_now()
            return None
        raise ValueError(f"unknown nemesis kind {kind!r}")

    async def _toxic(self, action: Action, injected: Injected) -> Undo:
        with contextlib.suppress(grpc.RpcError):
            injected.old_instance = (await self._module(action.module)).module.status.instance_id
        control = read_journals(self.journal).proxies.get(action.module)
        if not control:
            raise ValueError(f"module {action.module} has no fault proxy in its journal")
        toxic = dict(self.scenario.nemesis[action.step].toxic or {})
        toxic["name"] = f"nemesis-{action.step}-{int(action.at * 1000)}"
        client = ProxyClient(control)
        await client.add_toxic("module", toxic)
        return lambda: client.remove_toxic("module", toxic["name"])

    async def _faults(self, action: Action, injected: Injected) -> Undo:
        info = (await self._module(action.module)).module
        injected.old_instance = info.status.instance_id
        client = ControlClient(info.grpc_address)
        try:
            await client.set_faults(dict(self.scenario.nemesis[action.step].faults or {}))
        finally:
            await client.close()
        spec = self.scenario.spec_of(action.module)
        base = {k: v for k, v in spec.scenario.items() if k in SWITCHABLE}

        async def restore() -> None:
            info = (await self._module(action.module)).module
            client = ControlClient(info.grpc_address)
            try:
                await client.set_faults(base)
            finally:
                await client.close()

        return restore

    async def _restart_orchestrator(self, action: Action, injected: Injected) -> None:
        injected.modules = [m for m in self.scenario.module_ids
                            if self.scenario.spec_of(m).expect == "ready"]
        killed = time.monotonic()
        self.orchestrator.kill()
        await asyncio.sleep(action.lasting)
        self.orchestrator.start()
        await self.orchestrator.wait_serving()
        injected.serving_after = time.monotonic() - killed
        return None


async def _signal(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, sig)


async def _quietly(undo: Undo) -> Any:
    """An undo whose target is gone already (restarted, killed) has nothing left to undo."""
    with contextlib.suppress(OSError, grpc.RpcError, ValueError, Exception):
        return await undo()
    return None
