"""Each fault of the simulated module does what it says, in a real process: a crash is a real
death (by SIGKILL, or with its exit code), a hang really blocks (one RPC, or the whole
module), latency really delays, errors carry their code, start-up, health and memory faults
show where the orchestrator looks (HealthCheck, the process's RSS). Faults switch at run time
through the control RPC and SIGUSR1."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import grpc
import pytest
import yaml

from mediagrid.v1 import common_pb2, entity_pb2, module_pb2
from tests.simulator.helpers import ERROR, READY, STARTING, rss_bytes, sim
from tests.support import wait_until


def test_a_module_without_faults_is_ready_and_serves_the_contract(tmp_path: Path) -> None:
    with sim(tmp_path) as module:
        module.wait_state(READY)
        created = module.create("cam-1")
        assert created.created and created.entity.WhichOneof("entity") == "source"
        assert module.health().entity_count == 1
        state = module.control("GetState")
        assert [e["id"] for e in state["entities"]] == ["cam-1"]
        assert state["faults"] == {} and state["state"] == "READY"
        assert [line["kind"] for line in module.journal()][:1] == ["start"]


def test_latency_error_and_hang_of_one_rpc_switched_at_run_time(tmp_path: Path) -> None:
    with sim(tmp_path, {"seed": 3}) as module:
        module.wait_state(READY)
        module.control("SetFaults", {"faults": [
            {"method": "CreateEntity", "latency": "400ms"}]})
        started = time.monotonic()
        module.create("slow")
        assert time.monotonic() - started >= 0.4  # the call really waited

        module.control("SetFaults", {"faults": [
            {"method": "EntityService/Create*", "error": {"code": "RESOURCE_EXHAUSTED",
                                                           "message": "disk full"}}]})
        with pytest.raises(grpc.RpcError) as refused:
            module.create("refused")
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert refused.value.details() == "disk full"

        module.control("SetFaults", {"faults": [{"method": "CreateEntity", "hang": "rpc"}]})
        with pytest.raises(grpc.RpcError) as hung:
            module.create("hung", timeout=0.5)
        assert hung.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert module.health().status.state == READY  # only that call waits

        module.control("ClearFaults")
        assert module.create("fine").created
        state = module.control("GetState")
        assert state["applied"] == {"latency": 1, "error": 1, "hang": 1}
        assert [e["id"] for e in state["entities"]] == ["slow", "fine"]


def test_an_error_with_a_probability_fails_some_calls_the_same_way_for_a_seed(
        tmp_path: Path) -> None:
    outcomes = []
    for run in range(2):
        with sim(tmp_path / str(run), {"seed": 11, "faults": [
                {"method": "GetEntityStatus", "probability": 0.5, "error": "UNAVAILABLE"}]}) \
                as module:
            module.wait_state(READY)
            module.create("cam")
            codes = []
            for _ in range(16):
                try:
                    module.entities.GetEntityStatus(
                        entity_pb2.GetEntityStatusRequest(entity_id="cam"), timeout=5)
                    codes.append("OK")
                except grpc.RpcError as exc:
                    codes.append(exc.code().name)
            outcomes.append(codes)
    assert {"OK", "UNAVAILABLE"} <= set(outcomes[0])
    assert outcomes[0] == outcomes[1]  # the same seed draws the same faults


def test_crash_by_sigkill_on_the_nth_call_is_a_real_death(tmp_path: Path) -> None:
    with sim(tmp_path, {"faults": [
            {"method": "CreateEntity", "after_calls": 3, "crash": "sigkill"}]}) as module:
        module.wait_state(READY)
        module.create("a")
        module.create("b")
        with pytest.raises(grpc.RpcError):
            module.create("c")
        assert module.wait_exit() == -signal.SIGKILL
        crash = [line for line in module.journal() if line["kind"] == "crash"]
        assert crash and crash[0]["how"] == "sigkill" and "call 3" in crash[0]["why"]


def test_a_timed_crash_exits_with_its_code(tmp_path: Path) -> None:
    with sim(tmp_path, {"faults": [{"at": "300ms", "crash": {"exit": 3}}]}) as module:
        assert module.wait_exit() == 3


def test_a_hung_process_answers_nothing_until_it_is_killed(tmp_path: Path) -> None:
    with sim(tmp_path) as module:
        module.wait_state(READY)
        module.control("SetFaults", {"faults": [{"at": "0s", "hang": "process"}]})
        assert wait_until(lambda: module.state() is None, 5)
        with pytest.raises(grpc.RpcError) as silent:
            module.health(timeout=0.5)
        assert silent.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert module.proc.poll() is None  # alive, just not answering


def test_slow_start_and_never_ready(tmp_path: Path) -> None:
    with sim(tmp_path / "slow", {"start": {"delay": "1500ms"}}) as slow, \
            sim(tmp_path / "never", {"start": {"never_ready": True}}) as never:
        assert wait_until(lambda: slow.state() == STARTING, 15)
        slow.wait_state(READY)
        assert never.state() == STARTING
        never.module.Shutdown(module_pb2.ShutdownRequest(), timeout=5)
        assert never.wait_exit() == 0  # Shutdown cuts the endless start-up short (H-8)


def test_flapping_and_degraded_health(tmp_path: Path) -> None:
    with sim(tmp_path, {"health": {"flapping": {"up": "400ms", "down": "400ms"}}}) as module:
        seen = set()
        assert wait_until(lambda: seen.add(module.state()) or {READY, ERROR} <= seen, 15)
        module.control("SetFaults", {"health": {"degraded": "camera input retrying"}})
        assert wait_until(lambda: module.health().status.health ==
                          common_pb2.HEALTH_STATUS_DEGRADED, 5)
        status = module.health().status
        assert (status.state, status.error_message) == (READY, "camera input retrying")
        module.control("ClearFaults")
        assert wait_until(lambda: module.health().status.health ==
                          common_pb2.HEALTH_STATUS_HEALTHY, 5)


def test_memory_grows_and_is_really_resident(tmp_path: Path) -> None:
    with sim(tmp_path) as module:
        module.wait_state(READY)
        before = rss_bytes(module.proc.pid)
        module.control("SetFaults", {"memory": {"grow": "20MB", "limit": "60MB"}})
        assert wait_until(lambda: rss_bytes(module.proc.pid) - before > 40 * 1024**2, 15)


def test_sigusr1_reads_the_scenario_file_again(tmp_path: Path) -> None:
    with sim(tmp_path) as module:
        module.wait_state(READY)
        module.scenario_path.write_text(yaml.safe_dump({"faults": [
            {"method": "CreateEntity", "error": "ABORTED"}]}))
        os.kill(module.proc.pid, signal.SIGUSR1)
        assert wait_until(lambda: module.control("GetState")["faults"] != {}, 5)
        with pytest.raises(grpc.RpcError) as refused:
            module.create("x")
        assert refused.value.code() == grpc.StatusCode.ABORTED


def test_bad_faults_at_run_time_are_refused_naming_the_fix(tmp_path: Path) -> None:
    with sim(tmp_path) as module:
        module.wait_state(READY)
        with pytest.raises(grpc.RpcError) as bad:
            module.control("SetFaults", {"faults": [{"method": "X", "latency": "fast"}]})
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "faults[0].latency" in bad.value.details()
        assert "200ms" in bad.value.details()
        assert module.control("GetState")["faults"] == {}  # nothing changed
