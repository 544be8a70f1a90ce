"""One module process: spawn, wait for READY, shutdown ladder.

Used by `mediagrid module run` and by the orchestrator's supervisor
(`mediagrid.reference.orchestrator.supervision`). The process runs in its own session and
process group, from an argument list (never a shell), and (on Linux) gets SIGKILL when the
process that started it dies. Its stdout and stderr are forwarded to `out`, each line with
`prefix` in front when one is given; the last stderr lines are kept to explain a failure.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

import grpc

from mediagrid.manifest.durations import format_duration
from mediagrid.manifest.model import ModuleManifest
from mediagrid.process import die_with_parent_preexec
from mediagrid.v1 import module_pb2, module_pb2_grpc

EXIT_PORT_IN_USE = 98  # contract: the module could not bind GRPC_PORT
STDERR_TAIL = 20
# Health errors that mean "not up yet": keep polling until the deadline.
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
             grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN}
LONG_LINE = 4096  # a line longer than this is forwarded in pieces

ChannelFactory = Callable[[str, Sequence[tuple[str, Any]]], grpc.aio.Channel]
"""(address, channel options) -> a channel to the module (plaintext, or TLS)."""


def insecure_channel(address: str, options: Sequence[tuple[str, Any]] = ()) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(address, options=list(options))


class StartError(Exception):
    """The module did not become READY. `reason` is one line; `exit_code` is set when the
    process exited by itself, and `stderr_tail` then holds its last stderr lines.
    str() is the reason with the tail quoted, for callers that did not show the output."""

    def __init__(self, reason: str, exit_code: int | None = None,
                 stderr_tail: tuple[str, ...] = ()) -> None:
        self.reason, self.exit_code, self.stderr_tail = reason, exit_code, stderr_tail
        if exit_code is None:
            super().__init__(reason)
            return
        tail = "\n".join(f"    {line}" for line in stderr_tail) or "    (nothing on stderr)"
        super().__init__(f"{reason}; its last stderr lines:\n{tail}")


def exit_status(returncode: int) -> int:
    """A shell-style exit status: killed by signal N -> 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


class ModuleProcess:
    """Use as `async with ModuleProcess(manifest, port) as proc:`; leaving the block stops
    the process (shutdown ladder) if it still runs."""

    def __init__(self, manifest: ModuleManifest, port: int, *, orchestrator: str = "",
                 bind_host: str = "127.0.0.1", out: IO[bytes] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None, token: str | None = None,
                 extra_env: Mapping[str, str] | None = None, prefix: str = "",
                 channel: ChannelFactory = insecure_channel) -> None:
        """`token` None takes MEDIAGRID_TOKEN from this process's environment; "" means no
        token. `extra_env` (the TLS files, for example) is added to the §2.1 variables."""
        self.manifest, self.port, self.orchestrator = manifest, port, orchestrator
        self.bind_host, self.clock, self.rng = bind_host, clock, rng
        self.out = out if out is not None else sys.stderr.buffer
        self.prefix = prefix.encode()
        self.channel = channel
        self.extra_env = dict(extra_env or {})
        host = "127.0.0.1" if bind_host in ("0.0.0.0", "") else bind_host
        self.address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
        self.token = os.environ.get("MEDIAGRID_TOKEN", "") if token is None else token
        self._proc: asyncio.subprocess.Process | None = None
        self._pumps: list[asyncio.Task[None]] = []
        self._exited: asyncio.Task[int] | None = None

    def environment(self) -> dict[str, str]:
        """The contract's §2.1 environment over this process's own and module.yaml's env."""
        env = {**os.environ, **self.manifest.env, **self.extra_env}
        env.setdefault("PYTHONUNBUFFERED", "1")  # a Python module's prints show up at once
        env.update(GRPC_PORT=str(self.port), MEDIAGRID_MODULE_ID=self.manifest.id,
                   MEDIAGRID_BIND_HOST=self.bind_host,
                   MEDIAGRID_ORCHESTRATOR_ADDRESS=self.orchestrator)
        env.pop("MEDIAGRID_TOKEN", None)
        if self.token:
            env["MEDIAGRID_TOKEN"] = self.token
        return env

    async def __aenter__(self) -> ModuleProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
        await self.release()

    async def start(self) -> None:
        """Spawns the process; StartError when the command cannot be started at all."""
        command = self.manifest.resolved_command()
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *command, cwd=self.manifest.cwd, env=self.environment(),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=True,
                preexec_fn=die_with_parent_preexec(),
            )
        except OSError as exc:
            raise StartError(f"cannot start {command[0]}: {exc.strerror or exc}; check "
                             f"`command` in {self.manifest.path}") from exc
        assert self._proc.stdout and self._proc.stderr
        self._pumps = [asyncio.create_task(self._pump(self._proc.stdout, keep=False)),
                       asyncio.create_task(self._pump(self._proc.stderr, keep=True))]
        self._exited = asyncio.create_task(self._proc.wait())

    async def release(self) -> None:
        """Stops forwarding the output (after stop(), or once the process has exited)."""
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    @property
    def exited(self) -> bool:
        return self._exited is not None and self._exited.done()

    @property
    def started(self) -> bool:
        return self._proc is not None

    async def drain(self, within: float) -> None:
        """Waits up to `within` seconds for the output pipes to reach their end (after an exit), so
        the stderr tail holds the process's last words."""
        if self._pumps:
            await asyncio.wait(self._pumps, timeout=within)

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.returncode

    async def _pump(self, stream: asyncio.StreamReader, keep: bool) -> None:
        partial = b""  # chunks, not lines: a very long line must not stop the forwarding
        while chunk := await stream.read(65536):
            *lines, partial = (partial + chunk).split(b"\n")
            if len(partial) > LONG_LINE:  # forward a very long line in pieces
                lines.append(partial)
                partial = b""
            self._forward(lines)
            if keep:
                self.stderr_tail.extend(line.decode(errors="replace") for line in lines)
        if partial:
            self._forward([partial])
            if keep:
                self.stderr_tail.append(partial.decode(errors="replace"))

    def _forward(self, lines: list[bytes]) -> None:
        if lines:
            self.out.write(b"".join(self.prefix + line + b"\n" for line in lines))
            self.out.flush()

    async def wait(self) -> int:
        """Waits for the process to exit; returns its exit status (128+N when killed)."""
        assert self._exited is not None
        return exit_status(await asyncio.shield(self._exited))

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The call metadata of the token, for every call to the module (rule S-3)."""
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()

    async def _exit_error(self) -> StartError:
        await self.drain(1.0)  # the tail then holds the module's last words
        code = await self.wait()
        why = " (port in use)" if code == EXIT_PORT_IN_USE else ""
        return StartError(f"module {self.manifest.id} exited with code {code}{why} before "
                          "it was READY", exit_code=code, stderr_tail=tuple(self.stderr_tail))

    async def wait_ready(self) -> module_pb2.HealthCheckResponse:
        """Polls HealthCheck with the start-up retry backoff until the module says READY.
        Raises StartError when the process exits, the module reports ERROR, or the
        start-up deadline passes."""
        sup = self.manifest.supervision
        assert self._exited is not None
        deadline = self.clock() + sup.startup_timeout
        delays = sup.startup_retry.delays(self.rng)
        retry = sup.startup_retry
        options = [("grpc.initial_reconnect_backoff_ms", max(1, int(retry.initial * 1000))),
                   ("grpc.min_reconnect_backoff_ms", max(1, int(retry.initial * 1000))),
                   ("grpc.max_reconnect_backoff_ms", max(1, int(retry.max * 1000)))]
        last = "no answer yet"
        async with self.channel(self.address, options) as channel:
            stub = module_pb2_grpc.ModuleServiceStub(channel)
            while True:
                remaining = deadline - self.clock()
                if remaining <= 0:
                    raise StartError(
                        f"module {self.manifest.id} was not READY within "
                        f"{format_duration(sup.startup_timeout)} (supervision.startup_timeout "
                        f"in {self.manifest.path}); last: {last}")
                call = asyncio.ensure_future(stub.HealthCheck(
                    module_pb2.HealthCheckRequest(), metadata=self.metadata(),
                    timeout=min(sup.health_timeout, remaining)))
                await asyncio.wait({call, self._exited}, return_when=asyncio.FIRST_COMPLETED)
                if self._exited.done():
                    call.cancel()
                    raise await self._exit_error()
                last = self._judge(call)
                if last == "READY":
                    return call.result()
                await asyncio.wait({self._exited}, timeout=min(next(delays), remaining))

    def _judge(self, call: asyncio.Future[Any]) -> str:
        """"READY", or what the last attempt said; raises StartError when hopeless."""
        exc = call.exception()
        if isinstance(exc, grpc.aio.AioRpcError):
            if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                raise StartError("HealthCheck was refused (UNAUTHENTICATED): set MEDIAGRID_TOKEN "
                                 "to the token the module expects")
            if exc.code() not in RETRYABLE:
                raise StartError(f"HealthCheck failed with {exc.code().name}: {exc.details()}; "
                                 "the module must serve mediagrid.v1.ModuleService")
            return f"{exc.code().name}: {exc.details()}"
        if exc is not None:
            raise exc
        status = call.result().status
        state = module_pb2.ModuleState.Name(status.state).removeprefix("MODULE_STATE_")
        if state in ("ERROR", "STOPPING"):
            raise StartError(f"module {self.manifest.id} reports {state} while starting: "
                             f"{status.error_message or 'no error message'}")
        return state

    async def stop(self, reason: str = "stopped by mediagrid module run") -> int:
        """The shutdown ladder: Shutdown RPC and wait rpc_grace; SIGTERM to the process group
        and wait term_grace; SIGKILL. Returns the exit status. Safe to call twice."""
        if self._proc is None or self._exited is None:
            return 0
        ladder = self.manifest.supervision.shutdown
        if not self._exited.done():
            await self._shutdown_rpc(reason, ladder.rpc_grace)
            await asyncio.wait({self._exited}, timeout=ladder.rpc_grace)
        for sig, grace in ((signal.SIGTERM, ladder.term_grace), (signal.SIGKILL, None)):
            if self._exited.done():
                break
            self.signal_group(sig)
            await asyncio.wait({self._exited}, timeout=grace)
        code = await self.wait()
        self.signal_group(signal.SIGKILL)  # leftovers of the group (ffmpeg children...)
        return code

    async def _shutdown_rpc(self, reason: str, grace: float) -> None:
        request = module_pb2.ShutdownRequest(reason=reason)
        request.grace_period.FromNanoseconds(int(grace * 1e9))
        async with self.channel(self.address, ()) as channel:
            with contextlib.suppress(grpc.aio.AioRpcError, asyncio.TimeoutError):
                await module_pb2_grpc.ModuleServiceStub(channel).Shutdown(
                    request, metadata=self.metadata(), timeout=min(grace, 2.0) or 1.0)

    def signal_group(self, sig: signal.Signals) -> None:
        """Sends `sig` to the module's whole process group (it and its children)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)  # start_new_session: the group id is the pid
