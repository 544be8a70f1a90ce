"""FfmpegProcess: the one way a media module runs ffmpeg.

    proc = FfmpegProcess(args, name="camera-1", stall_timeout=5.0, restart="always")
    # or args=lambda run: [...] to build each run's command (e.g. a new file name per run)
    await proc.start()
    async for progress in proc.updates():      # typed `-progress` blocks
        ...
    await proc.stop(grace=5.0)

- the child runs in its own session and process group; stop() sends SIGTERM to the group and
  SIGKILL after `grace`; the child gets SIGKILL when the supervisor dies (mediagrid.process);
- `-progress pipe:N -stats_period P -nostats -nostdin` are added after argv[0] (N is an extra
  pipe, so stdout stays free for media);
- stderr is drained continuously into a bounded tail, quoted by FfmpegError;
- a run whose frame count stops rising for `stall_timeout` seconds (or that shows no frame
  within `start_timeout` seconds of its start) is killed and restarted;
  exits are restarted according to `restart` ("always", "on-failure", "never") with the
  project's one backoff (`mediagrid.backoff`, default `RESTART`: at once, then 0.5 s doubling
  to 30 s, reset after 60 s of streaming), up to `max_restarts` restarts in all (None: no limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Literal

from mediagrid.backoff import RESTART, Backoff, BackoffPolicy
from mediagrid.process import die_with_parent_preexec
from mediagrid.reference.media.errors import FfmpegError
from mediagrid.reference.media.progress import Progress, ProgressParser
from mediagrid.reference.media.stderr import StderrTail
from mediagrid.reference.media.supervision import (
    EventKind,
    OutputPipe,
    SupervisorEvent,
    checked_args,
    put_dropping_oldest,
    reader_for_fd,
    signal_group,
)
from mediagrid.reference.media.watchdog import Clock, MonotonicClock, StallWatchdog

RestartPolicy = Literal["always", "on-failure", "never"]
EOF_GRACE = 2.0
"""Seconds a process whose stdin was closed gets to finish before SIGTERM."""

log = logging.getLogger(__name__)


class FfmpegProcess:
    """A supervised ffmpeg (see the module docstring)."""

    def __init__(
        self,
        args: Sequence[str] | Callable[[int], Sequence[str]],
        *,
        name: str = "ffmpeg",
        progress_period: float = 0.5,
        stall_timeout: float | None = 5.0,
        start_timeout: float = 10.0,
        backoff: BackoffPolicy | None = None,
        restart: RestartPolicy = "on-failure",
        max_restarts: int | None = None,
        kill_grace: float = 2.0,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        stderr_lines: int = 50,
        stdin: int = asyncio.subprocess.DEVNULL,
        stdout: int = asyncio.subprocess.DEVNULL,
        on_progress: Callable[[Progress], None] | None = None,
        on_event: Callable[[SupervisorEvent], None] | None = None,
        redact: Callable[[str], str] | None = None,
        on_output: Callable[[bytes], None] | None = None,
    ) -> None:
        self._make_args = args if callable(args) else (lambda run, fixed=tuple(args): fixed)
        self.args = checked_args(self._make_args(1))
        if restart not in ("always", "on-failure", "never"):
            raise ValueError(f"restart must be always, on-failure or never, got {restart!r}")
        if on_output is not None and stdout != asyncio.subprocess.DEVNULL:
            raise ValueError("stdout goes to on_output or to a pipe (stdout=PIPE), not both")
        if progress_period <= 0:
            raise ValueError(f"progress_period must be > 0 s, got {progress_period}")
        self.name = name
        self.progress_period = progress_period
        self.stall_timeout = stall_timeout
        self.start_timeout = start_timeout
        self.restart = restart
        self.max_restarts = max_restarts
        self.kill_grace = kill_grace
        self._clock = clock or MonotonicClock()
        self._backoff = Backoff(backoff or RESTART, clock=self._clock.now, rng=rng)
        self._tail = StderrTail(
            stderr_lines, logger=logging.getLogger(f"{__name__}.{name}"), redact=redact
        )
        self._stdin, self._stdout = stdin, stdout
        self._on_progress, self._on_event = on_progress, on_event
        self._on_output = on_output
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[int] | None = None
        self._stopping = asyncio.Event()
        self._subscribers: list[asyncio.Queue[Progress | None]] = []
        self.runs = 0
        self.restarts = 0
        self.stalls = 0
        self.latest: Progress | None = None
        self.exit_code: int | None = None

    # -- public API ---------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def stderr_tail(self) -> tuple[str, ...]:
        return self._tail.lines()

    @property
    def stdin(self) -> asyncio.StreamWriter | None:
        return self._proc.stdin if self._proc else None

    @property
    def stdout(self) -> asyncio.StreamReader | None:
        """The current run's stdout, when the process was made with stdout=PIPE (with
        `on_output` each read of it goes to that callback instead)."""
        return self._proc.stdout if self._proc else None

    async def start(self) -> None:
        """Starts the first run; returns once ffmpeg has been spawned."""
        if self._task is not None:
            raise RuntimeError(f"ffmpeg '{self.name}' was already started")
        spawned = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._supervise(spawned), name=f"ffmpeg:{self.name}")
        await asyncio.wait({spawned, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done() and not spawned.done():
            self._task.result()  # raises the spawn error

    async def wait(self) -> int:
        """The final exit code; raises FfmpegError when ffmpeg failed and was not restarted."""
        if self._task is None:
            raise RuntimeError(f"ffmpeg '{self.name}' was never started")
        return await asyncio.shield(self._task)

    async def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM to the process group, SIGKILL after `grace` s; never raises FfmpegError.
        With stdin=PIPE, stdin is closed first: at the end of its input ffmpeg finishes its
        outputs and exits by itself (one blocked reading a quiet pipe ignores SIGTERM)."""
        self._stopping.set()
        if self._task is None:
            return None
        stdin = self._proc.stdin if self._proc is not None else None
        if stdin is not None and not stdin.is_closing():
            stdin.close()
            await asyncio.wait({self._task}, timeout=min(grace, EOF_GRACE))
        await self._signal_until_done(signal.SIGTERM, grace)
        await self._signal_until_done(signal.SIGKILL, None)
        await asyncio.wait({self._task})
        if self._proc is not None:
            signal_group(self._proc.pid, signal.SIGKILL)  # anything ffmpeg left in its group
        return self.exit_code

    async def interrupt(self, detail: str) -> None:
        """Ends the current run as stalled (SIGTERM, SIGKILL after kill_grace), for a caller
        with its own stall rule (`stall_timeout=None`); the restart policy then applies."""
        proc = self._proc
        if proc is None or proc.returncode is not None or self._stopping.is_set():
            return
        await self._kill_stalled(proc, detail)

    def healthy(self) -> None:
        """Media moved (as the caller measures it): counts toward the backoff's reset."""
        self._backoff.healthy()

    async def updates(self) -> AsyncIterator[Progress]:
        """Yields each progress update until the supervisor finishes (bounded, drops oldest)."""
        queue: asyncio.Queue[Progress | None] = asyncio.Queue(maxsize=256)
        if self._task is not None and self._task.done():
            return
        self._subscribers.append(queue)
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            self._subscribers.remove(queue)

    async def __aenter__(self) -> FfmpegProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- supervision --------------------------------------------------------------------------
    async def _supervise(self, spawned: asyncio.Future[None]) -> int:
        try:
            while True:
                kind, code = await self._run_once(spawned)
                self.exit_code = code
                if self._stopping.is_set():
                    self._emit("stopped", exit_code=code)
                    return code
                if kind == "exited" and code == 0 and self.restart != "always":
                    return 0
                reason = {"stalled": "stalled"}.get(kind, "failed" if code else "exited")
                limit = self.max_restarts is not None and self.restarts >= self.max_restarts
                if self.restart == "never" or limit:
                    self._emit("gave_up", exit_code=code, detail=reason)
                    why = reason if not limit else f"{reason} after {self.restarts} restarts"
                    raise FfmpegError(
                        self.name, why, exit_code=code, stderr_tail=self.stderr_tail,
                        args=self.args,
                    )
                delay = self._backoff.next_delay()
                self._emit("restarting", exit_code=code, delay=delay, detail=reason)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._stopping.wait()
                if self._stopping.is_set():
                    self._emit("stopped", exit_code=code)
                    return code
                self.restarts += 1
        finally:
            if not spawned.done():
                spawned.set_result(None)
            for queue in self._subscribers:
                put_dropping_oldest(queue, None)

    async def _signal_until_done(self, sig: signal.Signals, within: float | None) -> None:
        """Signals each run's group once (a restart may race with stop) until the task ends."""
        assert self._task is not None
        loop = asyncio.get_running_loop()
        end = None if within is None else loop.time() + within
        signalled: set[int] = set()
        while not self._task.done():
            proc = self._proc
            if proc is not None and proc.returncode is None and proc.pid not in signalled:
                signal_group(proc.pid, sig)
                signalled.add(proc.pid)
            left = 0.1 if end is None else min(0.1, end - loop.time())
            if left <= 0:
                return
            await asyncio.wait({self._task}, timeout=left)

    async def _run_once(self, spawned: asyncio.Future[None]) -> tuple[str, int]:
        if self.runs > 0:
            self.args = checked_args(self._make_args(self.runs + 1))
        read_fd, write_fd = os.pipe()
        argv = [
            self.args[0], "-nostdin", "-nostats",
            *(() if "-hide_banner" in self.args else ("-hide_banner",)),
            "-progress", f"pipe:{write_fd}", "-stats_period", f"{self.progress_period:g}",
            *self.args[1:],
        ]
        output = OutputPipe(self._on_output) if self._on_output is not None else None
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=self._stdin, stdout=output.write_fd if output else self._stdout,
                stderr=asyncio.subprocess.PIPE, pass_fds=(write_fd,), start_new_session=True,
                preexec_fn=die_with_parent_preexec(),
            )
        except BaseException:
            os.close(read_fd)
            if output is not None:
                output.close()
            raise
        finally:
            os.close(write_fd)
        self._proc = proc
        self.latest = None
        self.runs += 1
        self._tail.add(f"[supervisor] run {self.runs} started (pid {proc.pid})")
        if output is not None:  # its reads come from the loop, so after "started" is handled
            output.start()
        self._emit("started", pid=proc.pid)
        if not spawned.done():
            spawned.set_result(None)
        watchdog = StallWatchdog(self.stall_timeout or 1.0, self._clock, self.start_timeout)
        stalls_before = self.stalls
        transport: asyncio.BaseTransport | None = None
        try:
            progress_reader, transport = await reader_for_fd(read_fd)
            async with asyncio.TaskGroup() as group:
                group.create_task(self._tail.drain(proc.stderr))  # type: ignore[arg-type]
                group.create_task(self._read_progress(progress_reader, watchdog))
                watcher = None
                if self.stall_timeout:
                    watcher = group.create_task(self._watch(proc, watchdog))
                code = await proc.wait()
                if watcher is not None:
                    watcher.cancel()
        except BaseException:
            if proc.returncode is None:
                signal_group(proc.pid, signal.SIGKILL)
                await asyncio.shield(proc.wait())
            raise
        finally:
            if transport is not None:
                transport.close()
            if output is not None:
                output.close()
        # Counted, not taken from the watcher's result: a run that obeys the watcher's SIGTERM
        # exits while the watcher still waits on it, and the exit is seen first.
        stalled = self.stalls > stalls_before
        self._tail.add(f"[supervisor] run {self.runs} exited with code {code}")
        self._emit("exited", pid=proc.pid, exit_code=code, detail="stalled" if stalled else "")
        return ("stalled" if stalled else "exited"), code

    async def _read_progress(self, reader: asyncio.StreamReader, watchdog: StallWatchdog) -> None:
        parser = ProgressParser()
        while line := await reader.readline():
            progress = parser.feed(line.decode("utf-8", "replace"))
            if progress is None:
                continue
            if watchdog.frames(progress.frame):
                self._backoff.healthy()
            self.latest = progress
            if self._on_progress is not None:
                self._on_progress(progress)
            for queue in self._subscribers:
                put_dropping_oldest(queue, progress)

    async def _watch(self, proc: asyncio.subprocess.Process, watchdog: StallWatchdog) -> None:
        """Counts a stall and kills the stalled run (SIGTERM, SIGKILL after kill_grace)."""
        while True:
            left = watchdog.remaining()
            if left <= 0:
                break
            # Wake at least every stall_timeout: once the first frame comes, the limit drops
            # from start_timeout to stall_timeout, and a stall must not wait out the former.
            await asyncio.sleep(min(left, watchdog.stall_timeout))
        if self._stopping.is_set():
            return
        await self._kill_stalled(proc, f"no new frame for {watchdog.stall_timeout:g} s"
                                 if watchdog.streaming
                                 else f"no frame in {watchdog.start_timeout:g} s")

    async def _kill_stalled(self, proc: asyncio.subprocess.Process, detail: str) -> None:
        self.stalls += 1
        self._backoff.unhealthy()
        self._emit("stalled", pid=proc.pid, detail=detail)
        signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.kill_grace):
                await proc.wait()
        signal_group(proc.pid, signal.SIGKILL)

    def _emit(self, kind: EventKind, **fields: object) -> None:
        event = SupervisorEvent(kind, self.runs, **fields)  # type: ignore[arg-type]
        log.info("ffmpeg %s: %s", self.name, event)
        if self._on_event is not None:
            self._on_event(event)
