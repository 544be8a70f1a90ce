"""What `mediagrid up --stack FILE` (and `mediagrid up` alone, the demo) does once the
orchestrator serves: apply the stack, run its config service as a supervised child process,
and print what runs, the preview URL and, each on a line of its own, `recording: PATH`.

The lines a script may read (`preview: URL`, `recording: PATH`, `metrics: URL`) go to
stdout; everything else `mediagrid up` prints goes to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from rich.console import Console
from rich.markup import escape

from mediagrid.backoff import RESTART, Backoff
from mediagrid.process.parent_death import preexec_for_current_process
from mediagrid.reference.stacks.apply import StackApplier
from mediagrid.reference.stacks.model import Stack
from mediagrid.v1 import orchestrator_pb2_grpc

if TYPE_CHECKING:
    from mediagrid.reference.orchestrator.app import Orchestrator

STOP_GRACE = 5.0


class ServiceProcess:
    """A service beside the orchestrator (the config service): started, restarted with the
    project's backoff when it exits, stopped by SIGTERM (then SIGKILL) with the orchestrator,
    and killed by the kernel if the orchestrator dies first."""

    def __init__(self, name: str, argv: list[str], out: Console) -> None:
        self.name, self.argv, self.out = name, argv, out
        self.process: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._keep(), name=self.name)

    async def _keep(self) -> None:
        backoff = Backoff(RESTART)
        while not self._stopping:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv, start_new_session=True, preexec_fn=preexec_for_current_process())
            code = await self.process.wait()
            if self._stopping:
                return
            delay = backoff.next_delay()
            self.out.print(f"[yellow]{self.name} exited with code {code}; starting it again in"
                           f" {delay:.1f} s[/]")
            await asyncio.sleep(delay)

    async def stop(self) -> None:
        self._stopping = True
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _stdout(line: str) -> None:
    print(line, flush=True)


async def bring_up(app: Orchestrator, stack: Stack, out: Console, *, metrics_url: str = ""
                   ) -> list[ServiceProcess]:
    """Applies the stack and starts its services; returns them (to stop with the
    orchestrator). Raises ApplyError naming what could not be made."""
    services = []
    if stack.configs:
        service = ServiceProcess("config-service", [
            sys.executable, "-m", "mediagrid.reference.services.config",
            "--orchestrator", app.address, "--config", str(stack.path)], out)
        service.start()
        services.append(service)
    token = app.settings.token
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    async with grpc.aio.insecure_channel(app.address) as channel:
        applier = StackApplier(stack, orchestrator_pb2_grpc.OrchestratorServiceStub(channel),
                               metadata=metadata, cwd=Path.cwd(), say=out.print)
        out.print(f"applying stack [bold]{escape(stack.name)}[/] ({escape(str(stack.path))}):"
                  f" {len(stack.entities)} entities, {len(stack.pipelines)} pipelines")
        applied = await applier.apply()
        for pipeline_id, plan in applied.pipelines.items():
            out.print(f"  pipeline [bold]{escape(pipeline_id)}[/]")
            for hop in plan:
                out.print(f"    {escape(hop)}")
        found = await applier.outputs()
    for url in found.previews:
        _stdout(f"preview: {url}")
    for path in found.recordings:
        _stdout(f"recording: {path}")
    if metrics_url:
        _stdout(f"metrics: {metrics_url}")
    out.print(f"live numbers: [bold]mediagrid status --address {app.address}[/]; Ctrl-C stops"
              " everything")
    return services
