"""Small scripted modules (a ModuleService and nothing else) showing one fault each, run
through `mediagrid conformance` as a user runs it:

- one exits 1 when the suite stops it, breaking §2.2: the run fails (exit 1) and says why;
  and `--json -` prints nothing but the JSON on stdout, so a script can read it;
- the pytest plugin fails that module too, on its `conformance::teardown` item (it passed
  it before: the plugin never looked at the run's teardown problems);
- one exits 98 on its first start (its port taken meanwhile): the suite starts it again on
  another port, as the orchestrator does (H-20), instead of giving up.

Written by the issue-8 mutation audit (audit-8): P10, P33, P43 in /work/coord/audit-8.md;
the plugin's teardown item fixes a real gap it found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

MODULE = '''\
import os, sys, threading
from concurrent import futures
import grpc
from mediagrid.v1 import common_pb2, module_pb2, module_pb2_grpc


class Module(module_pb2_grpc.ModuleServiceServicer):
    def HealthCheck(self, request, context):
        return module_pb2.HealthCheckResponse(module_id=FAULT, status=module_pb2.ModuleStatus(
            state=module_pb2.MODULE_STATE_READY, health=common_pb2.HEALTH_STATUS_HEALTHY,
            instance_id=FAULT + "-instance"))

    def Shutdown(self, request, context):
        code = 1 if FAULT == "exit-1-on-stop" else 0  # the fault: exit code 1, not 0
        threading.Timer(0.1, os._exit, (code,)).start()
        return module_pb2.ShutdownResponse()


FAULT, MARK = sys.argv[1], sys.argv[2]
if FAULT == "exits-98-once" and not os.path.exists(MARK):
    open(MARK, "w").close()
    sys.exit(98)  # as if GRPC_PORT had been taken between the suite's choice and the bind


server = grpc.server(futures.ThreadPoolExecutor(4))
module_pb2_grpc.add_ModuleServiceServicer_to_server(Module(), server)
server.add_insecure_port("127.0.0.1:" + os.environ["GRPC_PORT"])
server.start()
server.wait_for_termination()
'''


@pytest.mark.timeout(60)
def scripted(folder: Path, fault: str) -> Path:
    (folder / "module.py").write_text(MODULE)
    (folder / "module.yaml").write_text(
        f'id: {fault}\ncommand: ["{{python}}", "{folder / "module.py"}", "{fault}", '
        f'"{folder / "started-once"}"]\n')
    return folder


@pytest.mark.timeout(60)
def test_a_module_exiting_1_when_stopped_fails_and_json_goes_alone_to_stdout(
        tmp_path: Path) -> None:
    scripted(tmp_path, "exit-1-on-stop")
    # FORCE_COLOR: rich takes the output for a terminal (a CI page that shows colours), where
    # the human report must still go to stderr. P-1 needs a sink type: not applicable here,
    # so only the stop itself can fail the run
    result = subprocess.run([sys.executable, "-m", "mediagrid.cli", "conformance",
                             str(tmp_path), "--rules", "P-1", "--json", "-"],
                            cwd=ROOT, capture_output=True, text=True, timeout=50,
                            env={**os.environ, "FORCE_COLOR": "1"})
    body = json.loads(result.stdout)  # the human report went to stderr
    assert result.returncode == 1, result.stdout + result.stderr
    assert body["verdict"] == "fail" and body["exit_code"] == 1
    assert [c["outcome"] for c in body["checks"]] == ["n/a"]
    assert any("exited with code 1" in p for p in body["teardown_problems"])
    assert "teardown" in result.stderr and "verdict: fail" in result.stderr


@pytest.mark.timeout(60)
def test_a_start_that_exits_98_is_retried_on_another_port(tmp_path: Path) -> None:  # P43
    scripted(tmp_path, "exits-98-once")
    result = subprocess.run([sys.executable, "-m", "mediagrid.cli", "conformance",
                             str(tmp_path), "--rules", "P-1", "--json", "-"],
                            cwd=ROOT, capture_output=True, text=True, timeout=50)
    assert (tmp_path / "started-once").exists()  # the first start did exit 98
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["verdict"] == "pass"


@pytest.mark.timeout(60)
def test_the_plugin_fails_a_module_exiting_1_when_stopped(tmp_path: Path) -> None:
    folder = scripted(tmp_path, "exit-1-on-stop")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(folder), "--mediagrid-module", str(folder), "--mediagrid-rules", "P-1"],
        cwd=folder, capture_output=True, text=True, timeout=50)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 skipped" in result.stdout
    assert "exited with code 1 when the suite stopped it" in result.stdout
