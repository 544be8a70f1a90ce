"""Launching the module under test as the orchestrator would (contract §2.1).

Reuses `mediagrid.manifest.process.ModuleProcess` (own session and process group, parent-death
signal, HealthCheck polling with the start-up retry, the shutdown ladder); the suite adds
environment overrides (a token, a bad GRPC_PORT, another bind host) and keeps the module's
output in memory for the report instead of forwarding it to the terminal.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Mapping

from mediagrid.manifest.model import ModuleManifest
from mediagrid.manifest.process import ModuleProcess, StartError
from mediagrid.process import free_port
from mediagrid.v1 import module_pb2

OUTPUT_LINES = 200


class Output:
    """A file-like sink keeping the last lines the module wrote (stdout and stderr)."""

    def __init__(self, lines: int = OUTPUT_LINES) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=lines)
        self._partial = b""

    def write(self, chunk: bytes) -> int:
        *complete, self._partial = (self._partial + chunk).split(b"\n")
        self.lines.extend(line.decode(errors="replace") for line in complete)
        self._partial = self._partial[-4096:]
        return len(chunk)

    def flush(self) -> None:
        pass

    def text(self) -> str:
        tail = [self._partial.decode(errors="replace")] if self._partial else []
        return "\n".join([*self.lines, *tail])


class LaunchedModule(ModuleProcess):
    """One process of the module under test. `overrides` change the §2.1 environment
    (a value of None removes the variable)."""

    def __init__(self, manifest: ModuleManifest, port: int, *, orchestrator: str = "",
                 token: str = "", bind_host: str = "127.0.0.1",
                 overrides: Mapping[str, str | None] | None = None) -> None:
        self.output = Output()
        super().__init__(manifest, port, orchestrator=orchestrator, bind_host=bind_host,
                         out=self.output)  # type: ignore[arg-type]
        self.token = token
        self.overrides = dict(overrides or {})
        self.spawned_at = 0.0
        self.ready_after: float | None = None
        self.ready: module_pb2.HealthCheckResponse | None = None

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.pop("MEDIAGRID_TOKEN", None)
        if self.token:
            env["MEDIAGRID_TOKEN"] = self.token
        for name, value in self.overrides.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    async def __aenter__(self) -> LaunchedModule:
        self.spawned_at = time.monotonic()
        await super().__aenter__()
        return self

    async def wait_ready(self) -> module_pb2.HealthCheckResponse:
        self.ready = await super().wait_ready()
        self.ready_after = time.monotonic() - self.spawned_at
        return self.ready

    async def exit_code(self, within: float) -> int | None:
        """The exit status once the process ends, or None if it still runs after `within`."""
        try:
            async with asyncio.timeout(within):
                return await self.wait()
        except TimeoutError:
            return None

    def terminate(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGTERM)

    async def stop(self, reason: str = "stopped by the conformance suite") -> int:
        return await super().stop(reason)


@contextlib.asynccontextmanager
async def launch(manifest: ModuleManifest, *, orchestrator: str = "", token: str = "",
                 bind_host: str = "127.0.0.1", port: int | None = None,
                 overrides: Mapping[str, str | None] | None = None,
                 ready: bool = True, attempts: int = 3) -> AsyncIterator[LaunchedModule]:
    """Starts the module and (by default) waits until READY; stops it with the ladder on exit.
    A start that exits 98 (port taken meanwhile) is retried on a new port, as the
    orchestrator does (rule H-20)."""
    for attempt in range(attempts):
        process = LaunchedModule(manifest, port or free_port(bind_host), orchestrator=orchestrator,
                                 token=token, bind_host=bind_host, overrides=overrides)
        async with process:
            if ready:
                try:
                    await process.wait_ready()
                except StartError as exc:
                    if exc.exit_code == 98 and port is None and attempt + 1 < attempts:
                        continue
                    raise
            yield process
            return
    raise StartError(f"module {manifest.id} could not bind a port in {attempts} attempts")


__all__ = ["LaunchedModule", "Output", "StartError", "launch"]
