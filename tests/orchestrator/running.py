"""`mediagrid up` as a separate process, as a user runs it, for the tests that kill it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc

from mediagrid.v1 import module_pb2, orchestrator_pb2, orchestrator_pb2_grpc
from tests.support import free_port, wait_dead, wait_until

READY = module_pb2.MODULE_STATE_READY


class Up:
    """`mediagrid up --modules DIR... --address 127.0.0.1:PORT --state FILE` in `cwd`."""

    def __init__(self, cwd: Path, *module_dirs: Path, state: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.cwd, self.port = cwd, free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log = cwd / f"up-{self.port}.log"
        args = ["up", "--modules", *map(str, module_dirs), "--address", self.address]
        if state is not None:
            args += ["--state", str(state)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mediagrid.cli", *args], cwd=cwd, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **(env or {})})

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def modules(self) -> list[module_pb2.ModuleInfo]:
        with grpc.insecure_channel(self.address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            return list(stub.ListModules(orchestrator_pb2.ListModulesRequest(), timeout=5).modules)

    def stub(self) -> tuple[grpc.Channel, orchestrator_pb2_grpc.OrchestratorServiceStub]:
        channel = grpc.insecure_channel(self.address)
        return channel, orchestrator_pb2_grpc.OrchestratorServiceStub(channel)

    def wait_ready(self, count: int, within: float = 40.0) -> list[module_pb2.ModuleInfo]:
        """Waits until `count` modules are READY; returns them."""
        found: list[module_pb2.ModuleInfo] = []

        def all_ready() -> bool:
            nonlocal found
            assert self.proc.poll() is None, f"mediagrid up exited:\n{self.output()}"
            with contextlib.suppress(grpc.RpcError):
                found = self.modules()
            return len(found) == count and all(m.status.state == READY for m in found)
        assert wait_until(all_ready, within, period=0.1), self.output()
        return found

    def signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, sig)

    def stop(self, within: float = 30.0) -> int:
        """Ctrl-C, and its exit code (SIGKILL if it does not stop in time)."""
        if self.proc.poll() is None:
            self.signal(signal.SIGINT)
            try:
                return self.proc.wait(within)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
        return self.proc.wait(10)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.proc.wait(10)
        assert wait_dead(self.proc.pid)


@contextlib.contextmanager
def up(cwd: Path, *module_dirs: Path, **kw: object) -> Iterator[Up]:
    running = Up(cwd, *module_dirs, **kw)  # type: ignore[arg-type]
    try:
        yield running
    finally:
        running.stop()
