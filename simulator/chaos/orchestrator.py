"""The orchestrator under test, as a process the runner starts, SIGKILLs and starts again.

The runner speaks to it only through the contract: `OrchestratorService` over gRPC (and
`EventService` through the modules), and process signals. So any orchestrator can be
measured: give its command with the placeholders {python}, {modules}, {address} and {state}
(the reference one, `mediagrid up`, is the default). It must serve on {address}, keep its
state in {state} (so a restart finds what services asked for), start the modules under
{modules}, and stop cleanly on SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import grpc

from mediagrid.process import die_with_parent_preexec, free_port
from mediagrid.v1 import module_pb2, orchestrator_pb2, orchestrator_pb2_grpc

REFERENCE = ("{python}", "-m", "mediagrid.cli", "up", "--modules", "{modules}",
             "--address", "{address}", "--state", "{state}")


class OrchestratorGone(Exception):
    """It exited by itself; the message holds its last output."""


class OrchestratorProcess:
    def __init__(self, command: Sequence[str] | None, *, modules: Path, state: Path,
                 log: Path, env: dict[str, str] | None = None) -> None:
        self.template = tuple(command or REFERENCE)
        self.address = f"127.0.0.1:{free_port()}"
        self.modules, self.state, self.log = modules, state, log
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.pids: list[int] = []  # every process it ran as (starts and restarts)
        self.starts = 0

    @property
    def command(self) -> list[str]:
        values = {"python": sys.executable, "modules": str(self.modules),
                  "address": self.address, "state": str(self.state)}
        return [part.format(**values) for part in self.template]

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Spawns it in its own process group; it dies with the runner (and its modules with
        it, H-19), so nothing outlives a runner killed without a chance to clean up."""
        with self.log.open("ab") as out:
            out.write(f"\n== start {self.starts + 1}: {' '.join(self.command)}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         env=self.env, preexec_fn=die_with_parent_preexec())
        self.pids.append(self.proc.pid)
        self.starts += 1

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    async def wait_serving(self, within: float = 60.0) -> None:
        """Until ListModules answers; OrchestratorGone if it exits first."""
        deadline = time.monotonic() + within
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            while True:
                if not self.running:
                    raise OrchestratorGone(f"the orchestrator exited (status"
                                           f" {self.proc and self.proc.returncode}):\n"
                                           f"{self.tail()}")
                with contextlib.suppress(grpc.RpcError):
                    await stub.ListModules(orchestrator_pb2.ListModulesRequest(), timeout=1)
                    return
                if time.monotonic() > deadline:
                    raise OrchestratorGone(f"the orchestrator did not answer on {self.address}"
                                           f" within {within:.0f} s:\n{self.tail()}")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to its process group: no chance to stop anything (its modules die with
        it, rule H-19)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    async def stop(self, within: float = 40.0) -> int | None:
        """SIGINT (a clean stop: every module by the shutdown ladder); SIGKILL if it takes
        longer than `within`. Returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(self.proc.wait, within)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode


async def list_modules(stub: orchestrator_pb2_grpc.OrchestratorServiceStub,
                       deadline: float = 3.0) -> list[module_pb2.ModuleInfo]:
    request = orchestrator_pb2.ListModulesRequest()
    request.page.page_size = 1000
    modules: list[module_pb2.ModuleInfo] = []
    while True:
        reply = await stub.ListModules(request, timeout=deadline)
        modules += reply.modules
        if not reply.next_page_token:
            return modules
        request.page.page_token = reply.next_page_token
