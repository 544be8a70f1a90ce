"""How a chaos run judges what it saw, without running one: each invariant breaks naming
what broke it (docs/chaos.md), every fault is classified from its own window of events, the
report's figures come from the right lists, the run's leak check finds an orphan in a
module's process group and a port left listening, exit codes follow docs/cli.md, and the
workload draws the same calls from the same seed."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mediagrid.cli import main
from mediagrid.simulator.chaos.history import HistoryVerdict
from mediagrid.simulator.chaos.invariants import Verdict, judge
from mediagrid.simulator.chaos.model import Model
from mediagrid.simulator.chaos.nemesis import Injected
from mediagrid.simulator.chaos.observe import FaultRecord
from mediagrid.simulator.chaos.orchestrator import OrchestratorProcess
from mediagrid.simulator.chaos.plan import Action
from mediagrid.simulator.chaos.records import fault_records
from mediagrid.simulator.chaos.report import ChaosReport
from mediagrid.simulator.chaos.runner import ChaosRun, RunOptions
from mediagrid.simulator.chaos.scenario import MIX, ChaosScenario, ModuleSpec
from mediagrid.simulator.chaos.workload import TypeInfo, Workload
from mediagrid.simulator.module.journal import Journal
from tests.simulator.recorded import event

SCENARIO = ChaosScenario("judged", modules=(ModuleSpec("cam", count=2),
                                            ModuleSpec("loop", expect="error")))
TYPES = {"cam": [TypeInfo("camera", "source", (2,), ("location",))],
         "nvr": [TypeInfo("recorder", "sink", (2,), ())]}


def workload(seed: int = 1) -> Workload:
    return Workload(Model(), TYPES, seed=seed, services=1, rate=1.0, max_entities=4,
                    mix=MIX, modules=list(TYPES))


def verdicts(**changed: object) -> dict[str, Verdict]:
    """The invariants of a run that went well, but for `changed`."""
    seen: dict[str, object] = {
        "final": {"cam-1": "READY", "cam-2": "READY", "loop": "ERROR"}, "problems": [],
        "workload": workload(), "histories": [HistoryVerdict(0, received=3)],
        "subscribers": [], "caught_up": True, "leaked": [], "records": []}
    return {v.name: v for v in judge(SCENARIO, **{**seen, **changed})}  # type: ignore[arg-type]


def broken(found: dict[str, Verdict]) -> dict[str, str]:
    return {name: v.detail for name, v in found.items() if not v.ok}


def test_a_run_that_went_well_breaks_no_invariant() -> None:
    assert broken(verdicts()) == {}


def test_error_where_ready_is_due_and_ready_where_give_up_is_due_break_modules_ready() -> None:
    found = broken(verdicts(final={"cam-1": "ERROR", "cam-2": "READY", "loop": "READY"}))
    assert found == {"modules-ready": "module cam-1 is ERROR, not READY; module loop is"
                                      " READY, not ERROR"}


def test_desired_state_not_converged_or_calls_left_unresolved_break_convergence() -> None:
    differs = ["module cam-1 is ERROR, not READY", "cam-2: entity s0e1 is missing"]
    found = verdicts(problems=differs)["desired-state-converged"]
    assert not found.ok and found.problems == ["cam-2: entity s0e1 is missing"]
    unresolved = workload()
    unresolved.stats.unresolved = 2
    found = verdicts(workload=unresolved)["desired-state-converged"]
    assert found.problems == ["2 calls of unknown outcome could not be resolved"]


def test_subscribers_that_never_caught_up_break_the_event_history() -> None:
    found = broken(verdicts(caught_up=False))
    assert list(found) == ["event-history"] and "within 20 s" in found["event-history"]


def test_a_hang_is_not_a_crash_in_the_classification_table() -> None:
    """slow: DEGRADED, hung: UNHEALTHY and restarted, crashed: restarted (docs/chaos.md)."""
    def record(expect: str, observed: str) -> FaultRecord:
        return FaultRecord("f", "kill", "cam-1", 1.0, expect, observed=observed)

    assert not record("restarted", "unhealthy-restarted").ok
    assert not record("unhealthy-restarted", "restarted").ok
    assert not record("degraded", "restarted").ok
    assert record("restarted", "restarted").ok and record("any", "none").ok


def test_each_fault_is_classified_from_its_own_window_and_only_the_last_from_the_end() -> None:
    """A slow network on cam-1, then a kill of cam-1, which ends in ERROR: the first fault
    is judged by its events up to the kill; only the last one by the module's final state."""
    injected = [Injected(Action(1.0, "toxic", "cam-1", 2.0, 0, "degraded", "slow network"),
                         at=100.0, modules=["cam-1"]),
                Injected(Action(10.0, "kill", "cam-1", 0.0, 1, "error", "crash (SIGKILL)"),
                         at=110.0, modules=["cam-1"])]
    seen = [event(100.2, module="cam-1", new_state="READY", new_health="DEGRADED"),
            event(101.0, module="cam-1", new_state="READY", new_health="HEALTHY"),
            event(110.1, module="cam-1", old_state="READY", new_state="ERROR",
                  new_health="UNHEALTHY"),
            event(110.5, "restarted", module="cam-1"),
            event(111.0, module="cam-1", old_state="STARTING", new_state="READY",
                  new_health="HEALTHY")]
    records = fault_records(SCENARIO, injected, seen, {"cam-1": "ERROR", "loop": "ERROR"},
                            90.0, {(0, "cam-1"): 1.5})
    assert [(r.label, r.observed, r.ok) for r in records[:2]] == [
        ("slow network", "degraded", True), ("crash (SIGKILL)", "error", True)]
    assert records[0].detect == pytest.approx(0.2) and records[0].ready == pytest.approx(1.0)
    assert records[0].converge == 1.5
    assert records[2].module == "loop" and records[2].observed == "error"


def test_the_report_counts_lost_and_duplicated_reports_from_their_own_lists() -> None:
    history = HistoryVerdict(0, received=9, lost=[("cam", "a", 2)],
                             duplicated=[("cam", "a", 3), ("cam", "a", 4)],
                             reordered=[("cam", "a", 5, 6)] * 3)
    report = ChaosReport("judged", 1, 1.0, [], [], [], [history], [Verdict("x", True, "")],
                         {}, acked=9, converge_after_heal=None, wall=1.0)
    events = report.to_dict()["events"]
    assert (events["lost"], events["duplicated"]) == (1, 2)
    assert events["subscribers"][0]["reordered"] == 3
    report.invariants.append(Verdict("event-history", False, "1 lost"))
    assert not report.ok and report.to_dict()["failed"] == ["event-history"]


def test_the_run_finds_an_orphan_in_a_modules_process_group_and_a_port_left_open(
        tmp_path: Path) -> None:
    """A module (the group leader) is dead, its child lives on; a port it wrote in its
    journal still listens: both are named (`no-orphans-no-leaked-ports`)."""
    leader = subprocess.Popen(["sh", "-c", "sleep 30 & echo $!"], stdout=subprocess.PIPE,
                              start_new_session=True, text=True)
    assert leader.stdout is not None
    child = int(leader.stdout.readline())
    leader.wait(10)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    journal = Journal(tmp_path / "journal", "cam-1", "inst-1")
    journal.write("start", pid=leader.pid, port=port)
    journal.close()
    run = ChaosRun(SCENARIO, RunOptions(seed=1, duration=1.0, quiet=1.0))
    never_started = OrchestratorProcess(None, modules=tmp_path, state=tmp_path / "state",
                                        log=tmp_path / "log")
    try:
        found = asyncio.run(run._leaks(never_started, tmp_path / "journal", within=0.2))
    finally:
        os.kill(child, signal.SIGKILL)
        listener.close()
    assert [p for p in found if p.startswith(f"process {child} (")]
    assert f"port {port} is still listening" in found


def test_exit_codes_invalid_scenario_2_a_run_that_cannot_go_on_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/cli.md: 2 invalid input, 1 failure (here the orchestrator exits at once)."""
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump({"name": "x", "modules": [{"id": "cam"}],
                                        "nemesis": [{"kind": "kil", "every": "1s"}]}))
    assert main(["chaos", str(scenario)]) == 2
    assert 'did you mean "kill"?' in capsys.readouterr().err
    scenario.write_text(yaml.safe_dump({"name": "x", "duration": "1s",
                                        "modules": [{"id": "cam"}]}))
    gone = f"{sys.executable} -c 'import sys; sys.exit(3)'"
    assert main(["chaos", str(scenario), "--orchestrator", gone]) == 1
    said = capsys.readouterr().err
    assert "the chaos run failed" in said and "status 3" in said


def test_the_same_seed_draws_the_same_workload() -> None:
    """Every call acknowledged (applied to the model): seed 3 twice, then seed 4."""
    def calls(seed: int) -> list[tuple[str, str]]:
        work = workload(seed)
        source, drawn = work.source(0), []
        for _ in range(30):
            call = work._choose(0, source)
            if call is not None:
                call.apply(work.model)
                drawn.append((call.name, call.item))
        return drawn

    assert calls(3) == calls(3)
    assert calls(3) != calls(4)
