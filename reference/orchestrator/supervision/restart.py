"""Restart policy and restart backoff (rules H-14, H-16, H-17, H-20, C-7).

`RestartPlanner.plan(failure)` decides, for one failure of a module, whether it is restarted
(`restart_policy` always / on-failure / never), after how long (the project's one backoff,
`mediagrid.backoff`, with module.yaml's `restart_backoff`: first at once, then 0.5 s doubling
to 30 s, ±20 % jitter, reset after 60 s READY), or whether the supervisor gives up
(`give_up`). Exit code 98 (port taken) is retried at once and never counted. The clock and
the random source are injectable, so tests check every delay exactly.
"""

from __future__ import annotations

import random
import signal
import time
from dataclasses import dataclass
from enum import Enum

from mediagrid.backoff import Backoff, Clock
from mediagrid.manifest.durations import format_duration
from mediagrid.manifest.model import Supervision
from mediagrid.manifest.process import EXIT_PORT_IN_USE
from mediagrid.reference.orchestrator.supervision.give_up import GiveUpWindow


class FailureKind(Enum):
    EXIT = "exit"  # the process exited (by itself, or killed)
    START = "start"  # not READY: exited early, reported ERROR, or the start-up deadline passed
    UNHEALTHY = "unhealthy"  # failure_threshold health checks in a row failed (rule H-13)
    OPERATOR = "operator"  # RestartModule


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    message: str
    exit_code: int | None = None  # for EXIT and START when the process had exited

    @property
    def clean_exit(self) -> bool:
        return self.kind is FailureKind.EXIT and self.exit_code == 0


@dataclass(frozen=True)
class Plan:
    restart: bool
    delay: float = 0.0
    gave_up: bool = False
    counted: bool = True  # False for exit 98 and operator restarts: not against give-up
    why: str = ""  # when not restarting: the reason, for the module's error message


def describe_exit(code: int) -> str:
    """ "exited with code 1", "was killed by SIGKILL" (a status of 128+N is signal N)."""
    if code > 128:
        try:
            return f"the process was killed by {signal.Signals(code - 128).name}"
        except ValueError:
            return f"the process was killed by signal {code - 128}"
    return f"the process exited with code {code}"


def wants_restart(policy: str, failure: Failure) -> bool:
    """restart_policy: always (any exit or UNHEALTHY), on-failure (anything but exit 0),
    never. An operator's RestartModule restarts whatever the policy."""
    if failure.kind is FailureKind.OPERATOR:
        return True
    if policy == "never":
        return False
    return policy == "always" or not failure.clean_exit


class RestartPlanner:
    def __init__(self, supervision: Supervision, *, clock: Clock = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.supervision = supervision
        self.backoff = Backoff(supervision.restart_backoff, clock=clock, rng=rng)
        self.give_up = GiveUpWindow(supervision.give_up, clock=clock)

    def plan(self, failure: Failure) -> Plan:
        sup = self.supervision
        if failure.kind is FailureKind.OPERATOR:
            self.reset()
            return Plan(restart=True, counted=False)
        if failure.exit_code == EXIT_PORT_IN_USE:  # rule H-20: at once, not counted
            return Plan(restart=True, counted=False)
        if not wants_restart(sup.restart_policy, failure):
            return Plan(restart=False, why=f"restart_policy is {sup.restart_policy}: not"
                        " restarted; RestartModule starts it again")
        if not self.give_up.allows_restart():
            limit = sup.give_up
            return Plan(restart=False, gave_up=True, why=(
                f"gave up: more than {limit.max_restarts} restarts within"
                f" {format_duration(limit.window)} (supervision.give_up); fix the module,"
                " then RestartModule (mediagrid restart MODULE) starts it again"))
        self.give_up.record()
        return Plan(restart=True, delay=self.backoff.next_delay())

    def healthy(self) -> None:
        """A good health check: after reset_after of them in a row the backoff starts over."""
        self.backoff.healthy()

    def unhealthy(self) -> None:
        self.backoff.unhealthy()

    def reset(self) -> None:
        self.backoff.reset()
        self.give_up.reset()
