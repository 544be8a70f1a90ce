"""What `mediagrid up` runs beside the orchestrator: the /metrics endpoint, and a stack file
applied with its services (the config service). A stack that cannot be applied stops
`mediagrid up` with exit code 1, naming what failed."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from rich.markup import escape

from mediagrid.reference.orchestrator.metrics import MetricsServer

if TYPE_CHECKING:
    from mediagrid.reference.orchestrator.app import Orchestrator
    from mediagrid.reference.orchestrator.up import Screen
    from mediagrid.reference.stacks.model import Stack
    from mediagrid.reference.stacks.running import ServiceProcess

EXIT_OK, EXIT_FAILURE = 0, 1


class Extras:
    def __init__(self, app: Orchestrator, screen: Screen, stack: Stack | None,
                 metrics: str) -> None:
        self.app, self.screen, self.stack, self.metrics_address = app, screen, stack, metrics
        self.metrics: MetricsServer | None = None
        self.services: list[ServiceProcess] = []

    async def run_until(self, stop: asyncio.Event) -> int:
        """Starts everything; returns the exit code to use once `stop` is set."""
        out = self.screen.out
        if self.metrics_address:
            server = MetricsServer(self.app, self.metrics_address)
            try:
                await server.start()
                self.metrics = server
            except OSError as exc:
                out.print(f"[yellow]warning:[/] /metrics not served: {escape(str(exc))} (choose"
                          " another --metrics HOST:PORT, or --metrics off)")
        if self.stack is None:
            if self.metrics is not None:
                print(f"metrics: {self.metrics.url}", flush=True)
            return EXIT_OK
        from mediagrid.reference.stacks.apply import ApplyError
        from mediagrid.reference.stacks.running import bring_up

        task = asyncio.ensure_future(bring_up(
            self.app, self.stack, out, metrics_url=self.metrics.url if self.metrics else ""))
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ApplyError):
                await task
            return EXIT_OK
        try:
            self.services = task.result()
        except ApplyError as exc:
            out.print(f"[red]error:[/] the stack could not be applied: {escape(str(exc))}")
            stop.set()
            return EXIT_FAILURE
        return EXIT_OK

    async def stop(self) -> None:
        for service in self.services:
            await service.stop()
        if self.metrics is not None:
            await self.metrics.stop()
