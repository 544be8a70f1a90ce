"""The simulated module's scenario format (checked as module.yaml is: file, field, line, fix),
its published schema, and fleets made with faker (same seed, same fleet)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from mediagrid.cli import main
from mediagrid.manifest import load_manifest
from mediagrid.simulator.documents import ScenarioError
from mediagrid.simulator.fleet import make_fleet, write_fleet
from mediagrid.simulator.fleet.generate import slug
from mediagrid.simulator.module.scenario import (
    SIGKILL,
    Latency,
    check_faults,
    load_scenario,
    schema,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as bad:
        load_scenario(write(tmp_path, text))
    return [str(p) for p in bad.value.problems]


def test_an_empty_scenario_is_a_well_behaved_module_with_the_default_types(
        tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, ""))
    assert scenario.faults.quiet
    assert [t["type"] for t in scenario.entity_types] == ["camera", "microphone", "encoder",
                                                           "recorder"]


def test_every_fault_form_is_read(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, """
id: sim-cam
seed: 4
start: {delay: 2s}
health: {flapping: {up: 3s, down: 1s}}
memory: {grow: 2MB}
reports: {late: 500ms, lose: 0.1}
faults:
  - {method: CreateEntity, probability: 0.2, error: UNAVAILABLE}
  - {method: "*", latency: {distribution: normal, mean: 80ms, stddev: 20ms}}
  - {method: HealthCheck, after: 5s, until: 9s, hang: {scope: rpc, for: 2s}}
  - {method: StartFlow, after_calls: 3, crash: sigkill}
  - {at: 20s, crash: {exit: 3}}
"""))
    faults = scenario.faults
    assert (faults.start_delay, faults.flapping, faults.memory_grow) == (2.0, (3.0, 1.0),
                                                                         2 * 1024**2)
    assert (faults.reports_late, faults.reports_lose) == (0.5, 0.1)
    assert [f.action for f in faults.faults] == ["error", "latency", "hang", "crash", "crash"]
    assert faults.faults[0].error == ("UNAVAILABLE", "")
    assert faults.faults[2].hang == ("rpc", 2.0) and faults.faults[2].until == 9.0
    assert faults.faults[3].crash == SIGKILL and faults.faults[4].crash == 3
    assert faults.faults[4].at == 20.0


def test_mistakes_name_the_field_the_line_and_the_fix(tmp_path: Path) -> None:
    found = problems(tmp_path, """
id: sim
faults:
  - method: CreateEntity
    latency: fast
  - method: StartFlow
    error: UNAVAILABLE
    crash: sigkill
  - {mehtod: X, hang: rpc}
healt: {degraded: x}
""")
    text = "\n".join(found)
    assert "faults[0].latency: 'fast' is not a latency" in text and '"200ms"' in text
    assert "faults[1]: a fault needs exactly one action" in text
    assert 'unknown key "mehtod"; did you mean "method"?' in text
    assert 'unknown key "healt"; did you mean "health"?' in text


def test_timed_faults_and_windows_are_checked(tmp_path: Path) -> None:
    text = "\n".join(problems(tmp_path, """
faults:
  - {at: 2s, method: CreateEntity, crash: sigkill}
  - {at: 2s, latency: 1s}
  - {after: 5s, until: 2s, error: ABORTED}
  - {latency: {distribution: uniform, min: 1ms}}
  - {after: 2s, until: 2s, error: ABORTED}
  - {at: 2s, hang: rpc}
health: {flapping: {up: 0s, down: 1s}}
"""))
    assert "faults[0].method: a timed fault (at) takes no method" in text
    assert "faults[1].at: a timed fault can only crash or hang the process" in text
    assert "faults[2].until: until is not after `after`" in text
    assert "faults[3].latency.max: a uniform latency needs max" in text
    assert "faults[4].until: until is not after `after`" in text  # an empty window
    assert "faults[5].at: a timed fault can only crash or hang the process" in text
    assert "health.flapping.up: up must be above 0" in text


def test_the_schema_is_published_and_the_check_command_uses_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--print-schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema()
    bad = write(tmp_path, "faults: [{method: X, crash: {exit: 300}}]\n")
    assert main(["simulate", "--check", str(bad), "--json"]) == 2
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["files"][0]["errors"][0]["field"] == "faults[0].crash"


def test_control_payloads_take_only_switchable_keys() -> None:
    assert check_faults({"faults": [{"method": "X", "after_calls": 2.0, "crash": "sigkill"}]}
                        ).faults[0].after_calls == 2  # JSON numbers from a Struct
    with pytest.raises(ScenarioError, match="cannot be switched at run time"):
        check_faults({"entity_types": []})


def test_latency_distributions_draw_within_their_shape() -> None:
    rng = random.Random(1)
    assert Latency("fixed", (0.2, 0)).draw(rng) == 0.2
    assert all(0.1 <= Latency("uniform", (0.1, 0.3)).draw(rng) <= 0.3 for _ in range(100))
    assert all(Latency("normal", (0.0, 1.0)).draw(rng) >= 0 for _ in range(100))
    draws = sorted(Latency("lognormal", (0.05, 0.5)).draw(rng) for _ in range(1001))
    assert 0.04 < draws[500] < 0.06  # its median


def test_the_same_seed_writes_the_same_fleet_and_it_is_valid(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert main(["simulate", "--fleet", "12", "--out", str(tmp_path / name),
                     "--seed", "5", "--json"]) == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.yaml"))
    assert len(files) == 24
    for file in files:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    for folder in (tmp_path / "a").iterdir():
        manifest = load_manifest(folder)
        scenario = load_scenario(folder / "scenario.yaml")
        assert [t.type for t in manifest.entity_types] == [t["type"] for t in
                                                           scenario.entity_types]
        assert manifest.command[-3:] == ("-m", "mediagrid.simulator.module", "scenario.yaml")
    five, six = make_fleet(12, seed=5), make_fleet(12, seed=6)
    assert five[0].facts != six[0].facts  # faker's first draws (site, vendor, address)
    assert [m.version for m in five] != [m.version for m in six]  # and random's


def test_modules_of_the_same_site_and_kind_get_their_own_ids() -> None:
    fleet = make_fleet(200, seed=3)
    assert len({slug(m.name) for m in fleet}) < len(fleet)  # a site and kind came twice
    assert len({m.id for m in fleet}) == len(fleet)


def test_a_fleet_refuses_a_folder_that_is_not_empty(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    write_fleet(tmp_path, make_fleet(1, seed=1))
    assert main(["simulate", "--fleet", "2", "--out", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
