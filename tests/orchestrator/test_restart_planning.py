"""Restart policy, restart backoff and give-up, exact on a hand-moved clock (H-16, H-17, H-20,
C-7, H-14's policies). The supervisor consults this planner on every failure; the integration
tests in test_supervision.py check that it does."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from mediagrid.backoff import RESTART, BackoffPolicy
from mediagrid.manifest import load_manifest
from mediagrid.manifest.model import GiveUp, Supervision
from mediagrid.reference.orchestrator.supervision.restart import (
    Failure,
    FailureKind,
    RestartPlanner,
    wants_restart,
)

CRASH = Failure(FailureKind.EXIT, "the process exited with code 1", 1)
CLEAN = Failure(FailureKind.EXIT, "the process exited with code 0", 0)
UNHEALTHY = Failure(FailureKind.UNHEALTHY, "3 health checks in a row failed")
PORT_TAKEN = Failure(FailureKind.START, "exit 98", 98)


class Clock:
    def __init__(self) -> None:
        self.t = 5000.0

    def __call__(self) -> float:
        return self.t


def planner(clock: Clock, **changes: object) -> RestartPlanner:
    backoff = BackoffPolicy(0.5, 2.0, 30.0, 0.0, 60.0, first_at_once=True)  # H-16, no jitter
    return RestartPlanner(replace(Supervision(restart_backoff=backoff), **changes), clock=clock)


def test_h16_first_restart_at_once_then_half_a_second_doubling_to_thirty() -> None:
    clock = Clock()
    plans = planner(clock, give_up=GiveUp(max_restarts=100, window=60))
    delays = []
    for _ in range(9):
        plan = plans.plan(CRASH)
        delays.append(plan.delay)
        clock.t += plan.delay + 1.0  # up for a second, then it crashes again
    assert delays == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_h16_jitter_stays_within_twenty_percent() -> None:
    plans = RestartPlanner(replace(Supervision(), give_up=GiveUp(1000, 60)), clock=Clock(),
                           rng=random.Random(7))
    delays = [plans.plan(CRASH).delay for _ in range(12)]
    assert delays[0] == 0.0
    for n, delay in enumerate(delays[1:]):
        base = min(0.5 * 2**n, 30.0)
        assert base * 0.8 <= delay <= base * 1.2
    assert len(set(delays[1:])) > 1  # jittered, not constant


def test_h16_backoff_resets_after_sixty_seconds_ready_and_not_before() -> None:
    clock = Clock()
    plans = planner(clock, give_up=GiveUp(max_restarts=100, window=600))
    assert [plans.plan(CRASH).delay for _ in range(4)] == [0.0, 0.5, 1.0, 2.0]
    plans.healthy()  # READY: the healthy stretch starts
    clock.t += 59.999
    plans.healthy()
    assert plans.plan(CRASH).delay == 4.0  # not quite a minute: the count goes on
    plans.healthy()
    clock.t += 60.0
    plans.healthy()  # a full minute READY
    assert plans.plan(CRASH).delay == 0.0  # the count started over: at once again
    assert plans.plan(CRASH).delay == 0.5


def test_h16_a_failed_check_ends_the_healthy_stretch() -> None:
    clock = Clock()
    plans = planner(clock, give_up=GiveUp(max_restarts=100, window=600))
    plans.plan(CRASH)
    plans.plan(CRASH)
    for _ in range(40):
        plans.healthy()
        clock.t += 1.0
    plans.unhealthy()  # one DEGRADED check: the 60 s start over
    for _ in range(40):
        plans.healthy()
        clock.t += 1.0
    assert plans.plan(CRASH).delay == 1.0


def test_h17_gives_up_on_the_restart_that_would_be_one_too_many() -> None:
    clock = Clock()
    plans = planner(clock)  # default give_up: more than 5 restarts in 60 s
    for n in range(5):
        plan = plans.plan(CRASH)
        assert plan.restart and not plan.gave_up, n
        clock.t += plan.delay + 0.1
    plan = plans.plan(CRASH)
    assert not plan.restart and plan.gave_up
    assert "more than 5 restarts within 60s" in plan.why and "RestartModule" in plan.why


def test_h17_restarts_older_than_the_window_do_not_count() -> None:
    clock = Clock()
    plans = planner(clock, give_up=GiveUp(max_restarts=2, window=10))
    plans.plan(CRASH)  # t = 5000
    clock.t += 5
    plans.plan(CRASH)  # t = 5005
    clock.t += 4.999
    assert plans.plan(CRASH).gave_up  # three within 10 s
    plans = planner(clock, give_up=GiveUp(max_restarts=2, window=10))
    plans.plan(CRASH)
    clock.t += 5
    plans.plan(CRASH)
    clock.t += 5.0  # the first is exactly 10 s old: out of the window
    assert plans.plan(CRASH).restart


def test_h17_operator_restart_clears_the_count_and_the_backoff() -> None:
    clock = Clock()
    plans = planner(clock, give_up=GiveUp(max_restarts=1, window=60))
    plans.plan(CRASH)
    assert plans.plan(CRASH).gave_up
    assert plans.plan(Failure(FailureKind.OPERATOR, "RestartModule")).restart
    plan = plans.plan(CRASH)
    assert plan.restart and plan.delay == 0.0


def test_h20_exit_98_is_retried_at_once_and_never_counted() -> None:
    clock = Clock()
    plans = planner(clock, give_up=GiveUp(max_restarts=1, window=60))
    for _ in range(10):
        plan = plans.plan(PORT_TAKEN)
        assert plan.restart and plan.delay == 0.0 and not plan.counted
    assert plans.plan(CRASH).restart  # the one allowed restart is still there
    assert plans.plan(CRASH).gave_up


@pytest.mark.parametrize(("policy", "crash", "clean", "unhealthy"), [
    ("always", True, True, True),
    ("on-failure", True, False, True),
    ("never", False, False, False),
])
def test_h14_restart_policies(policy: str, crash: bool, clean: bool, unhealthy: bool) -> None:
    assert wants_restart(policy, CRASH) is crash
    assert wants_restart(policy, CLEAN) is clean
    assert wants_restart(policy, UNHEALTHY) is unhealthy
    assert wants_restart(policy, Failure(FailureKind.OPERATOR, "RestartModule"))
    plan = planner(Clock(), restart_policy=policy).plan(CLEAN)
    assert plan.restart is clean
    if not clean:
        assert f"restart_policy is {policy}" in plan.why


def test_c7_module_yaml_supervision_overrides_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "module.yaml").write_text(
        "id: m\ncommand: [x]\nsupervision:\n"
        "  restart_backoff: {initial: 2s, multiplier: 3, max: 20s, jitter: 0, reset_after: 5s}\n"
        "  give_up: {max_restarts: 2, window: 30s}\n  restart_policy: on-failure\n")
    clock = Clock()
    plans = RestartPlanner(load_manifest(tmp_path).supervision, clock=clock)
    assert [plans.plan(CRASH).delay for _ in range(2)] == [0.0, 2.0]
    assert plans.plan(CRASH).gave_up
    assert not plans.plan(CLEAN).restart
    assert RESTART.reset_after == 60.0 and plans.backoff.policy.reset_after == 5.0
