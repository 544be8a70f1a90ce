"""Health checks of a READY module (rules H-13, H-21).

Every `health_period` the supervisor calls `HealthCheck` with `health_timeout` as deadline.
`HealthJudge` counts: one failed check (an error, the deadline, or a state other than READY)
makes the module DEGRADED, `failure_threshold` failures in a row make it UNHEALTHY (and it is
restarted), one good check makes it HEALTHY again. A good check whose `instance_id` differs
from the one the orchestrator knows means the module restarted behind its back.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from mediagrid.v1 import common_pb2, module_pb2, module_pb2_grpc

READY = module_pb2.MODULE_STATE_READY
HEALTHY = common_pb2.HEALTH_STATUS_HEALTHY
DEGRADED = common_pb2.HEALTH_STATUS_DEGRADED
UNHEALTHY = common_pb2.HEALTH_STATUS_UNHEALTHY


@dataclass(frozen=True)
class CheckResult:
    """One HealthCheck: the answer, or why there was none usable."""

    response: module_pb2.HealthCheckResponse | None
    problem: str = ""  # empty when the module answered READY

    @property
    def good(self) -> bool:
        return not self.problem


async def check(stub: module_pb2_grpc.ModuleServiceStub, deadline: float,
                metadata: tuple[tuple[str, str], ...]) -> CheckResult:
    try:
        response = await stub.HealthCheck(module_pb2.HealthCheckRequest(), timeout=deadline,
                                          metadata=metadata)
    except grpc.aio.AioRpcError as exc:
        if exc.code() is grpc.StatusCode.DEADLINE_EXCEEDED:
            return CheckResult(None, f"HealthCheck did not answer within {deadline:g} s")
        return CheckResult(None, f"HealthCheck failed: {exc.code().name}: {exc.details()}")
    except TimeoutError:
        return CheckResult(None, f"HealthCheck did not answer within {deadline:g} s")
    state = response.status.state
    if state != READY:
        name = module_pb2.ModuleState.Name(state).removeprefix("MODULE_STATE_")
        why = f": {response.status.error_message}" if response.status.error_message else ""
        return CheckResult(response, f"the module reports {name}{why}")
    return CheckResult(response)


@dataclass
class HealthJudge:
    failure_threshold: int = 3
    failures: int = 0  # failed checks in a row

    def judge(self, result: CheckResult) -> int:
        """The module's health (a HealthStatus value) after this check."""
        if result.good:
            self.failures = 0
            return HEALTHY
        self.failures += 1
        return UNHEALTHY if self.failures >= self.failure_threshold else DEGRADED

    def reset(self) -> None:
        self.failures = 0
