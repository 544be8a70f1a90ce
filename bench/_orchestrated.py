"""Shared by the orchestrator benchmarks of issue 11: `mediagrid up` as a real process on a
free port with the given module folders, stopped (Ctrl-C, then SIGKILL) at the end."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import grpc

from mediagrid.process import free_port, stop_group
from mediagrid.v1 import module_pb2, orchestrator_pb2, orchestrator_pb2_grpc


@contextlib.contextmanager
def orchestrated(*module_dirs: Path, ready: int
                 ) -> Iterator[tuple[orchestrator_pb2_grpc.OrchestratorServiceStub,
                                     dict[str, str], str]]:
    """(a stub of the orchestrator, module id -> address, the orchestrator's address) once
    `ready` modules are READY."""
    address = f"127.0.0.1:{free_port()}"
    with tempfile.TemporaryDirectory() as state:
        process = subprocess.Popen(
            [sys.executable, "-m", "mediagrid.cli", "up", "--modules", *map(str, module_dirs),
             "--address", address, "--state", f"{state}/state.sqlite", "--metrics", "off"],
            cwd=state, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, env=os.environ.copy())
        channel = grpc.insecure_channel(address)
        try:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            deadline = time.monotonic() + 90
            while True:
                try:
                    modules = stub.ListModules(orchestrator_pb2.ListModulesRequest(),
                                               timeout=5).modules
                    up = {m.id: m.grpc_address for m in modules
                          if m.status.state == module_pb2.MODULE_STATE_READY}
                    if len(up) >= ready:
                        break
                except grpc.RpcError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError("the modules did not get READY in 90 s")
                time.sleep(0.1)
            yield stub, up, address
        finally:
            channel.close()
            stop_group(process, 30)
