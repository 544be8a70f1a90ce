"""A module that already runs (--address with --event-port), checked the way a user checks a
deployed module: the event checks run against the suite's EventService on that port, and
the suite leaves nothing behind in the module (every entity it made is destroyed).

Written by the issue-8 mutation audit (audit-8): P11, P16, P17 in /work/coord/audit-8.md.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import grpc
import pytest

from mediagrid.conformance.runner import Options, run_suite
from mediagrid.manifest import load_manifest
from mediagrid.process import free_port
from mediagrid.v1 import common_pb2, entity_pb2, entity_pb2_grpc, module_pb2, module_pb2_grpc
from tests.support import ROOT, wait_until

HELLO = ROOT / "examples" / "python" / "hello"


def ready(address: str) -> bool:
    """hello answers HealthCheck READY (the user starts it before running the suite)."""
    with grpc.insecure_channel(address) as channel:
        try:
            answer = module_pb2_grpc.ModuleServiceStub(channel).HealthCheck(
                module_pb2.HealthCheckRequest(), timeout=1)
        except grpc.RpcError:
            return False
    return answer.status.state == module_pb2.MODULE_STATE_READY and answer.module_id == "hello"


def start_hello(event_port: int) -> tuple[subprocess.Popen[bytes], int]:
    """hello on a free port, READY; started again on another port if it exits 98 (the port
    was taken meanwhile by another process of this busy machine), as the orchestrator does."""
    for _ in range(3):
        port = free_port()
        env = {**os.environ, "GRPC_PORT": str(port), "MEDIAGRID_MODULE_ID": "hello",
               "MEDIAGRID_ORCHESTRATOR_ADDRESS": f"127.0.0.1:{event_port}",
               "PYTHONUNBUFFERED": "1"}
        module = subprocess.Popen([sys.executable, "module.py"], cwd=HELLO, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        wait_until(lambda m=module, p=port: m.poll() is not None or ready(f"127.0.0.1:{p}"),
                   timeout=30)
        if module.poll() is None:
            return module, port
        if module.returncode != 98:
            pytest.fail(f"hello exited with code {module.returncode} before READY")
    pytest.fail("hello found no free port in 3 attempts")


@pytest.mark.timeout(120)
def test_address_mode_runs_event_checks_on_the_event_port_and_leaves_nothing() -> None:
    event_port = free_port()
    module, port = start_hello(event_port)
    try:
        assert ready(f"127.0.0.1:{port}"), "hello never READY"
        # N-5/N-6 and N-2 make and destroy entities, P-6/P-7 connections; E-1 reads reports
        options = Options(address=f"127.0.0.1:{port}", event_port=event_port, seed=2,
                          rules=("N-5", "N-6", "N-2", "P-6", "E-1"))
        report = asyncio.run(run_suite(load_manifest(HELLO), options))
        outcomes = {r.check.name: r.outcome for r in report.results}
        failed = [f"{r.check.name}: {r.rule}: expected {r.expected}; got {r.got}"
                  for r in report.results if r.outcome == "fail"]
        assert not failed, "\n".join(failed)
        assert not report.could_not_run and not report.teardown_problems, report
        assert outcomes["events.headers_and_sequences"] == "pass", outcomes  # not skipped
        assert outcomes["entities.destroy_idempotent"] == "pass", outcomes
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            left = entity_pb2_grpc.EntityServiceStub(channel).ListEntities(
                entity_pb2.ListEntitiesRequest(page=common_pb2.PageRequest(page_size=100)),
                timeout=10)
        assert list(left.entities) == [], "the suite left entities behind in the module"
    finally:
        module.kill()
        module.wait(10)
