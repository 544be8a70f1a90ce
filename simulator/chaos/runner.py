"""One chaos run, phase by phase:

1. write the module folders; start the orchestrator; wait for the modules to be READY;
2. subscribers follow the event log, services run the workload, the nemesis plays its
   timeline (and a probe times each fault's recovery) for the scenario's duration;
3. heal: undo every fault still in force; the workload stops;
4. quiet: resolve the calls of unknown outcome, wait for the modules and the desired state
   to come back (up to `quiet`), and for the subscribers to catch up with every report the
   modules saw acknowledged;
5. check the invariants, stop the orchestrator cleanly, look for orphans and leaked ports;
6. the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mediagrid.simulator.chaos import invariants as inv
from mediagrid.simulator.chaos.history import check_history
from mediagrid.simulator.chaos.journals import Journals, read_journals
from mediagrid.simulator.chaos.model import Model
from mediagrid.simulator.chaos.modules import write_modules
from mediagrid.simulator.chaos.nemesis import Injected, Nemesis
from mediagrid.simulator.chaos.observe import (
    RESTARTING,
    ConvergeProbe,
    differences,
    module_state,
)
from mediagrid.simulator.chaos.orchestrator import OrchestratorProcess, list_modules
from mediagrid.simulator.chaos.plan import Action, plan
from mediagrid.simulator.chaos.records import fault_records
from mediagrid.simulator.chaos.report import ChaosReport
from mediagrid.simulator.chaos.scenario import ChaosScenario
from mediagrid.simulator.chaos.subscribers import Subscriber, wait_caught_up
from mediagrid.simulator.chaos.workload import Workload, catalogue
from mediagrid.v1 import module_pb2, orchestrator_pb2_grpc

PROBED = ("kill", "pause", "toxic", "faults", "rescan")
LEAK_WAIT = 15.0  # seconds the stopped run's processes and ports get to go


@dataclass
class RunOptions:
    seed: int
    duration: float
    quiet: float
    orchestrator: tuple[str, ...] | None = None
    workdir: Path | None = None
    keep: bool = False


def state_name(state: int) -> str:
    return module_pb2.ModuleState.Name(state).removeprefix("MODULE_STATE_")


@dataclass
class _Live:
    """What the run collects while it goes."""

    converged: dict[tuple[int, str], float] = field(default_factory=dict)
    probes: list[asyncio.Task[None]] = field(default_factory=list)
    module_pids: set[int] = field(default_factory=set)  # every ModuleInfo.pid seen
    notes: list[str] = field(default_factory=list)


class ChaosRun:
    def __init__(self, scenario: ChaosScenario, options: RunOptions,
                 console: Console | None = None) -> None:
        self.scenario, self.options = scenario, options
        self.console = console or Console(stderr=True)
        self.live = _Live()
        self.orchestrator: OrchestratorProcess | None = None
        self.phase = "setup"
        """setup, starting, nemesis, healing, quiet, checking, stopping, done (benchmarks
        watch it, with `orchestrator`, to measure a phase)."""
        self.nemesis_began = 0.0  # time.monotonic() when the nemesis started

    def plan(self) -> list[Action]:
        return plan(self.scenario, self.options.seed, self.options.duration)

    @contextlib.contextmanager
    def _workdir(self) -> Iterator[Path]:
        if self.options.workdir is not None:
            self.options.workdir.mkdir(parents=True, exist_ok=True)
            yield self.options.workdir
            return
        folder = Path(tempfile.mkdtemp(prefix=f"chaos-{self.scenario.name}-"))
        try:
            yield folder
        finally:
            if not self.options.keep:
                shutil.rmtree(folder, ignore_errors=True)

    async def run(self) -> ChaosReport:
        """The whole run; SIGTERM cancels it like Ctrl-C (everything it started is stopped)."""
        started = time.monotonic()
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        if task is not None:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            return await self._run_in_workdir(started)
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    async def _run_in_workdir(self, started: float) -> ChaosReport:
        with self._workdir() as work:
            journal = work / "journal"
            folders = write_modules(self.scenario, work / "modules", journal)
            orchestrator = OrchestratorProcess(self.options.orchestrator or
                                               self.scenario.orchestrator_command,
                                               modules=work / "modules",
                                               state=work / "state.sqlite",
                                               log=work / "orchestrator.log")
            self.orchestrator = orchestrator
            try:
                report = await self._run(orchestrator, folders, journal)
            finally:
                for task in self.live.probes:
                    task.cancel()
                orchestrator.kill()
                _kill_leftovers(read_journals(journal), self.live.module_pids)
            report.wall = time.monotonic() - started
            if self.options.keep or self.options.workdir is not None:
                report.notes.append(f"run folder kept: {work} (orchestrator.log, journal/)")
            return report

    async def _run(self, orchestrator: OrchestratorProcess, folders: dict[str, Path],
                   journal: Path) -> ChaosReport:
        scenario, options = self.scenario, self.options
        ready_ids = [m for m in scenario.module_ids if scenario.spec_of(m).expect == "ready"]
        actions = self.plan()
        with self._progress() as progress:
            task = progress.add_task("starting the orchestrator and its modules", total=None,
                                     status="")
            self.phase = "starting"
            run_start = time.time()
            orchestrator.start()
            await orchestrator.wait_serving()
            await self._wait_ready(orchestrator.address, ready_ids)
            model = Model()
            subscribers = [Subscriber(i, orchestrator.address, scenario.churn, options.seed)
                           for i in range(scenario.subscribers)]
            stop_subscribers, stop_work = asyncio.Event(), asyncio.Event()
            following = [asyncio.ensure_future(s.run(stop_subscribers)) for s in subscribers]
            census = asyncio.ensure_future(self._census(orchestrator.address))
            workload = Workload(model, catalogue(folders), seed=options.seed,
                                services=scenario.workload.services,
                                rate=scenario.workload.rate,
                                max_entities=scenario.workload.max_entities,
                                mix=scenario.workload.mix, modules=ready_ids)
            working = asyncio.ensure_future(workload.run(orchestrator.address, stop_work))
            nemesis = Nemesis(scenario, orchestrator, folders=folders, journal=journal,
                              subscribers=subscribers)
            probe = ConvergeProbe(model, orchestrator.address,
                                  lambda m: scenario.spec_of(m).simulated)
            nemesis.on_inject = lambda injected: self._probe(probe, nemesis, injected)
            begun = self.nemesis_began = time.monotonic()
            self.phase = "nemesis"
            playing = asyncio.ensure_future(nemesis.play(actions, begun))
            progress.update(task, description="nemesis", total=options.duration, completed=0)
            while (elapsed := time.monotonic() - begun) < options.duration:
                progress.update(task, completed=elapsed, status=_status(
                    workload, nemesis, actions, subscribers))
                await asyncio.sleep(0.25)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(playing, 60)
            progress.update(task, description="healing", completed=options.duration)
            self.phase = "healing"
            await nemesis.heal()
            stop_work.set()
            await working
            healed = time.time()
            progress.update(task, description="quiet: waiting for recovery", status="")
            self.phase = "quiet"
            await workload.resolve(orchestrator.address, options.quiet)
            converged, problems, final = await self._converge(
                orchestrator.address, model, healed + options.quiet)
            progress.update(task, description="checking the event history")
            journals = read_journals(journal)
            wanted = {(i, s) for i, seqs in journals.acked.items() for s in seqs}
            caught_up = await wait_caught_up(subscribers, wanted, 20.0)
            for running in self.live.probes:
                running.cancel()
            records = fault_records(scenario, nemesis.injected, subscribers[0].history, final,
                                    run_start, self.live.converged)
            histories = [check_history(s.index, s.history, journals.acked, journals.lost,
                                       journals.module_of) for s in subscribers]
            progress.update(task, description="stopping the orchestrator")
            self.phase = "stopping"
            stop_subscribers.set()
            await asyncio.gather(*following, return_exceptions=True)
            census.cancel()
            code = await orchestrator.stop()
            leaked = await self._leaks(orchestrator, journal)
        verdicts = inv.judge(scenario, final, problems, workload, histories, subscribers,
                             caught_up, leaked, records)
        if code not in (0, None):
            self.live.notes.append(f"the orchestrator exited with status {code} when stopped")
        return ChaosReport(
            scenario=scenario.name, seed=options.seed, duration=options.duration,
            orchestrator=orchestrator.command, timeline=[a.to_dict() for a in actions],
            faults=records, histories=histories, invariants=verdicts,
            workload={**vars(workload.stats), "calls": len(workload.records)},
            acked=journals.acked_count,
            converge_after_heal=None if converged is None else converged - healed,
            wall=0.0, notes=self.live.notes)

    # -- phases -----------------------------------------------------------------------------

    def _progress(self) -> Progress:
        return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                        TimeElapsedColumn(), TextColumn("{task.fields[status]}"),
                        console=self.console, transient=True)

    async def _wait_ready(self, address: str, module_ids: list[str]) -> None:
        within = max(60.0, 1.0 * len(module_ids))
        deadline = time.monotonic() + within
        async with grpc.aio.insecure_channel(address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            while True:
                with contextlib.suppress(grpc.RpcError):
                    states = {m.id: m.status.state for m in await list_modules(stub)}
                    waiting = [m for m in module_ids if states.get(m) !=
                               module_pb2.MODULE_STATE_READY]
                    if not waiting:
                        return
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"modules not READY within {within:.0f} s at the"
                                           f" start: {', '.join(waiting[:10])}")
                await asyncio.sleep(0.2)

    def _probe(self, probe: ConvergeProbe, nemesis: Nemesis, injected: Injected) -> None:
        action = injected.action
        if injected.error or action.kind not in (*PROBED, "orchestrator-restart"):
            return
        if action.kind == "rescan" and not self.scenario.nemesis[action.step].change:
            return
        n = len(nemesis.injected) - 1
        fresh = action.kind == "orchestrator-restart" or action.expect in RESTARTING
        for module_id in injected.modules:
            def done(module: str, seconds: float, n: int = n) -> None:
                self.live.converged[(n, module)] = seconds
            self.live.probes.append(asyncio.ensure_future(
                probe.watch(injected, module_id, fresh, done)))

    async def _converge(self, address: str, model: Model, deadline: float,
                        ) -> tuple[float | None, list[str], dict[str, str]]:
        """Until every module is in its expected state and holds its desired state; returns
        (when, what still differs, the final states)."""
        scenario = self.scenario
        problems: list[str] = ["not checked"]
        final: dict[str, str] = {}
        async with grpc.aio.insecure_channel(address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            while True:
                problems = []
                try:
                    infos = {m.id: m for m in await list_modules(stub)}
                except grpc.RpcError as exc:
                    infos, problems = {}, [f"ListModules failed: {exc.code().name}"]
                final = {m: state_name(i.status.state) for m, i in infos.items()}
                for module_id in scenario.module_ids:
                    want = scenario.spec_of(module_id).expect.upper()
                    if final.get(module_id) != want:
                        problems.append(f"module {module_id} is {final.get(module_id, 'absent')}"
                                        f", not {want}")
                if not problems:
                    problems = await self._differences(stub, model)
                if not problems:
                    return time.time(), [], final
                if time.time() > deadline:
                    return None, problems, final
                await asyncio.sleep(0.25)

    async def _differences(self, stub: orchestrator_pb2_grpc.OrchestratorServiceStub,
                           model: Model) -> list[str]:
        ids = [m for m in self.scenario.module_ids if self.scenario.spec_of(m).expect == "ready"]

        async def one(module_id: str) -> list[str]:
            try:
                _, state = await module_state(stub, module_id,
                                              self.scenario.spec_of(module_id).simulated)
            except grpc.RpcError as exc:
                return [f"{module_id}: cannot read its state ({exc.code().name})"]
            if state is None:
                return [f"{module_id}: not READY"]
            return [f"{module_id}: {p}" for p in differences(model, module_id, state)]

        found = await asyncio.gather(*(one(m) for m in ids))
        return [p for problems in found for p in problems]

    async def _census(self, address: str) -> None:
        """Every module process the orchestrator reports (ModuleInfo.pid), twice a second: the
        leak check looks for whatever is left of their process groups (a module's children,
        like an ffmpeg, that outlived it)."""
        async with grpc.aio.insecure_channel(address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            while True:
                with contextlib.suppress(grpc.RpcError):
                    self.live.module_pids |= {m.pid for m in await list_modules(stub) if m.pid}
                await asyncio.sleep(0.5)

    async def _leaks(self, orchestrator: OrchestratorProcess, journal: Path,
                     within: float = LEAK_WAIT) -> list[str]:
        """What outlived the run (every process it knew of, their process groups, their
        ports), after waiting up to `within` seconds for it to go."""
        journals = read_journals(journal)
        pids = {*journals.pids, *orchestrator.pids, *self.live.module_pids}
        ports = {*journals.ports, int(orchestrator.address.rpartition(":")[2])}
        deadline = time.monotonic() + within
        while (problems := inv.leaks(pids, ports, groups=pids)) and \
                time.monotonic() < deadline:  # noqa: ASYNC110 - polling /proc
            await asyncio.sleep(0.2)
        return problems


def _status(workload: Workload, nemesis: Nemesis, actions: list[Action],
            subscribers: list[Subscriber]) -> str:
    s = workload.stats
    received = min((len(x.history) for x in subscribers), default=0)
    return (f"calls {s.ok} ok / {s.fail} refused / {s.info} unknown · faults"
            f" {len(nemesis.injected)}/{len(actions)} · events {received}")


def _kill_leftovers(journals: Journals, module_pids: set[int]) -> None:
    """Nothing of the run survives it, whatever happened (after the leak check counted)."""
    groups = {*journals.pids, *module_pids}
    for pid in {*journals.pids, *inv.group_members(groups)}:
        if inv.alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)


