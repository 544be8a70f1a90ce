"""The chaos runner's parts that need no process: the journals (ground truth), the seeded
timeline, the scenario's checks, the desired-state comparison, the classification of faults,
and the report's figures. The history checker has its own file (test_history_checker.py)."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from mediagrid.cli import main
from mediagrid.simulator.chaos.invariants import group_members, leaks
from mediagrid.simulator.chaos.journals import read_journals
from mediagrid.simulator.chaos.model import ConnectionItem, EntityItem, FlowItem, Model
from mediagrid.simulator.chaos.observe import classify, timings
from mediagrid.simulator.chaos.plan import plan
from mediagrid.simulator.chaos.report import percentile, spread
from mediagrid.simulator.chaos.scenario import load_chaos_scenario
from mediagrid.simulator.documents import ScenarioError
from mediagrid.simulator.module.journal import Journal
from tests.simulator.recorded import event
from tests.support import ROOT, wait_until

MIXED = ROOT / "fixtures" / "chaos" / "mixed.yaml"


def test_the_journal_is_the_ground_truth(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "cam", "inst-1")
    journal.write("start", pid=123, port=4000)
    journal.write("ack", first=1, last=3)
    journal.write("lost", first=4, last=4)
    journal.close()
    (tmp_path / "cam.jsonl").open("a").write('{"kind": "ack", "torn')  # a crash mid-line
    truth = read_journals(tmp_path)
    assert truth.acked == {"inst-1": {1, 2, 3}} and truth.lost == {"inst-1": {4}}
    assert truth.pids == {123} and truth.ports == {4000} and truth.latest_pid("cam") == 123


# -- the timeline ------------------------------------------------------------------------


def test_the_same_seed_draws_the_same_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load_chaos_scenario(MIXED)
    assert plan(scenario, 1, 35) == plan(scenario, 1, 35)
    assert plan(scenario, 1, 35) != plan(scenario, 2, 35)
    assert main(["chaos", str(MIXED), "--seed", "4", "--plan", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)["timeline"]
    assert printed == [a.to_dict() for a in plan(scenario, 4, 35)]


def test_the_timeline_keeps_module_faults_apart_and_whole() -> None:
    scenario = load_chaos_scenario(MIXED)
    for seed in range(1, 6):
        actions = plan(scenario, seed, 35)
        restarts = [a.at for a in actions if a.kind == "orchestrator-restart"]
        by_module: dict[str, list[float]] = {}
        for a in actions:
            assert a.at + a.lasting <= 35  # healing never cuts one short
            if a.module:
                assert not any(a.at <= r < a.at + a.lasting + 5 for r in restarts)
                by_module.setdefault(a.module, []).append(a.at)
        for times in by_module.values():
            assert all(b - a >= 5 for a, b in itertools.pairwise(times))


# -- the scenario format -------------------------------------------------------------------


def problems(tmp_path: Path, document: dict) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ScenarioError) as bad:
        load_chaos_scenario(path)
    return "\n".join(str(p) for p in bad.value.problems)


def test_scenario_mistakes_are_named_with_their_fix(tmp_path: Path) -> None:
    text = problems(tmp_path, {"name": "x", "modules": [{"id": "cam", "count": 2},
                                                        {"id": "cam-1"}],
                               "nemesis": [{"kind": "toxic", "target": "cam-*", "at": ["1s"],
                                            "toxic": {"type": "latency"}}]})
    assert "module id 'cam-1' comes twice" in text
    assert "toxics need modules behind a proxy" in text and "proxy: true" in text
    text = problems(tmp_path, {"name": "x", "modules": [{"id": "cam"}],
                               "nemesis": [{"kind": "kil", "every": "1s"}]})
    assert 'nemesis[0].kind: "kil" is not one of' in text and 'did you mean "kill"?' in text
    text = problems(tmp_path, {"name": "x", "modules": [{"id": "cam"}], "nemesis": [
        {"kind": "kill", "target": "nvr", "every": "2s"},
        {"kind": "faults", "target": "cam", "at": ["1s"], "faults": {"faults": [{"hang": 1}]}},
        {"kind": "pause", "target": "cam", "at": ["1s"], "every": "2s"}]})
    assert "'nvr' matches no module" in text
    assert "nemesis[1].faults" in text
    assert "exactly one of at, every and count" in text
    text = problems(tmp_path, {"name": "x", "modules": [{"id": "cam"}, {"id": "real",
                                                                        "path": "real"}],
                               "nemesis": [{"kind": "kill", "target": "cam"},
                                           {"kind": "faults", "target": "*", "at": ["1s"],
                                            "faults": {"health": {"degraded": "slow"}}}]})
    assert "nemesis[0]: a step needs exactly one of at, every and count" in text  # never
    assert "faults can be switched on simulated modules only" in text  # `*` takes in real


def test_the_fixtures_are_valid_and_the_schema_is_published(
        capsys: pytest.CaptureFixture[str]) -> None:
    fixtures = sorted((ROOT / "fixtures" / "chaos").glob("*.yaml"))
    assert {p.stem for p in fixtures} == {"crash-loop", "hang", "slow-network", "flapping",
                                          "orchestrator-restart", "subscriber-churn", "mixed"}
    for path in fixtures:
        scenario = load_chaos_scenario(path)
        assert scenario.duration < 60  # each under a minute by default
    assert main(["chaos", "--print-schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "mediagrid chaos scenario"


# -- desired state and classification ----------------------------------------------------


def model() -> Model:
    m = Model()
    m.entities[("cam", "e1")] = EntityItem("cam", "e1", "camera", 2, "r1", {"location": "hall"})
    m.entities[("nvr", "e2")] = EntityItem("nvr", "e2", "recorder", 2, "r2")
    m.connections["c1"] = ConnectionItem("c1", ("cam", "e1"), ("nvr", "e2"), 2)
    m.flows["f1"] = FlowItem("f1", ["c1"])
    return m


def test_the_desired_state_comparison_names_every_difference() -> None:
    desired = model()
    good = {"entities": [{"id": "e1", "config": {"location": "hall", "password": "x"}}],
            "connections": [{"id": "c1"}], "flows": [{"id": "f1--2", "state": "ACTIVE"}]}
    assert desired.diff("cam", good) == []  # a re-pointed part runs as f1--2
    bad = {"entities": [{"id": "e1", "config": {"location": "lobby"}}, {"id": "e9"}],
           "connections": [], "flows": [{"id": "f1", "state": "FLOW_STATE_STOPPED"}]}
    found = desired.diff("cam", bad)
    assert "entity e1 has config {'location': 'lobby'}, not {'location': 'hall'}" in found
    assert "entity e9 is there but was destroyed or never made" in found
    assert "connection c1 is missing" in found and "flow f1 is not running" in found
    desired.uncertain.add(("e", "cam", "e9"))  # unknown outcome: not judged yet
    assert "entity e9 is there but was destroyed or never made" not in desired.diff("cam", bad)


def test_faults_are_classified_from_the_orchestrators_events() -> None:
    crash = [event(10.01, old_state="READY", new_state="ERROR", new_health="UNHEALTHY"),
             event(10.02, old_state="ERROR", new_state="STARTING", new_health="HEALTHY"),
             event(10.5, "restarted"),
             event(10.9, old_state="STARTING", new_state="READY", new_health="HEALTHY")]
    assert classify(crash, "READY") == "restarted"
    assert timings(crash, 10.0) == pytest.approx((0.01, 0.9))
    hang = [event(1, new_state="READY", new_health="DEGRADED"),
            event(2, new_state="READY", new_health="UNHEALTHY"), *crash]
    assert classify(hang, "READY") == "unhealthy-restarted"
    slow = [event(1, new_state="READY", new_health="DEGRADED"),
            event(1.3, new_state="READY", new_health="HEALTHY")]
    assert classify(slow, "READY") == "degraded" and timings(slow, 0.5) == (0.5, 0.8)
    assert classify([], "ERROR") == "error" and classify([], "READY") == "none"


def test_the_leak_check_finds_what_outlived_a_module_in_its_process_group() -> None:
    """A module dies, its child (an ffmpeg, say) lives on in the module's process group."""
    leader = subprocess.Popen(["sh", "-c", "sleep 30 & echo $!"], stdout=subprocess.PIPE,
                              start_new_session=True, text=True)
    assert leader.stdout is not None
    child = int(leader.stdout.readline())
    leader.wait(10)
    # sh prints the child's pid before the child has exec'd sleep: until then its command
    # line is still sh's
    assert wait_until(lambda: Path(f"/proc/{child}/cmdline").read_bytes().startswith(b"sleep"),
                      10, 0.01)
    try:
        assert child in group_members({leader.pid})
        found = leaks([leader.pid], [], groups=[leader.pid])
        assert found == [f"process {child} (sleep 30) of a module's process group is still"
                         " alive"]
    finally:
        os.kill(child, signal.SIGKILL)


def test_percentiles_are_nearest_rank_in_milliseconds() -> None:
    values = [0.001 * n for n in range(1, 101)]
    assert percentile([v * 1000 for v in values], 95) == 95
    assert spread(values) == {"p50": 50.0, "p95": 95.0, "max": 100.0, "n": 100}
    assert spread([None]) is None
