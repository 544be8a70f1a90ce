"""One supervised media process (ffmpeg) for an entity, with its pipes wired to the media.

    process = MediaProcess("cam-1", args, stdin=True, ts_output=True, audio=False)
    receiver.consumers.append(process.write)     # what arrives goes to ffmpeg's stdin
    destination.attach(process.feed)              # what ffmpeg writes goes to the targets
    await process.start()
    ...
    await process.stop()

Built on `mediagrid.reference.media.FfmpegProcess` (process group, parent-death signal,
stderr tail, restarts with the project's one backoff). The stall rule is the media layer's:
a run whose frame count has not risen for `stall_timeout` seconds (`start_timeout` before
its first frame) is ended and restarted, but only while its input is live, so a sink whose
source went away waits for it instead of being restarted in a loop.

Frames are counted where they are plain to see: PES packets on the process's MPEG-TS output
(one per video frame, one per group of audio frames), or, for a process without TS output
(a recorder, a display), ffmpeg's own frame count for video and the received frames for audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence

from mediagrid.backoff import BackoffPolicy
from mediagrid.reference.media import FfmpegProcess, Progress, SupervisorEvent
from mediagrid.reference.media.process import RestartPolicy
from mediagrid.sdk.media.feed import Feed
from mediagrid.sdk.media.meter import Clock, Meter

log = logging.getLogger(__name__)

MAX_STDIN_QUEUE = 4 * 1024 * 1024
"""Bytes queued for a process that does not read fast enough before input is dropped."""
WATCH_PERIOD = 0.5
PROGRESS_PERIOD = 0.25
"""ffmpeg's progress reports: how soon a sink's first frame (and a stall) is seen."""
TS_PROGRESS_PERIOD = 1.0
"""The same for a process writing MPEG-TS, whose frames are counted on its output."""
INPUT_LIVE = 1.0
"""Input counts as live when data arrived within this many seconds."""

_FFMPEG_NOISE = re.compile(r"Task finished with error code|Terminating thread with return code"
                           r"|Last message repeated")
"""ffmpeg 9's lines that follow an error and hide it from a three-line tail."""
_ADDRESS = re.compile(r" @ 0x[0-9a-f]+")

Args = Sequence[str] | Callable[[int], Sequence[str]]
OutputReader = Callable[[asyncio.StreamReader], Awaitable[None]]


class MediaProcess:
    def __init__(
        self,
        name: str,
        args: Args,
        *,
        stdin: bool = False,
        ts_output: bool = False,
        read_output: OutputReader | None = None,
        audio: bool = False,
        input_frames: Meter | None = None,
        input_idle: Callable[[], float | None] | None = None,
        restart: RestartPolicy = "always",
        stall_timeout: float | None = 5.0,
        start_timeout: float = 10.0,
        backoff: BackoffPolicy | None = None,
        redact: Callable[[str], str] | None = None,
        clock: Clock = time.monotonic,
        on_event: Callable[[SupervisorEvent, MediaProcess], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        if ts_output and read_output is not None:
            raise ValueError("a process writes MPEG-TS (ts_output) or raw output, not both")
        self.name = name
        self.audio = audio
        self.feed = Feed(name, audio=audio, clock=clock) if ts_output else None
        self.frames = self.feed.frames if self.feed else Meter(clock=clock)
        """Frames moved by this process across its runs (see the module docstring)."""
        self.dropped_input = 0
        """Bytes of input dropped because the process did not read them in time."""
        self.stall_timeout, self.start_timeout = stall_timeout, start_timeout
        self._input_frames = input_frames
        self._input_idle = input_idle
        self._read_output = read_output
        self._clock = clock
        self._on_event, self._on_progress = on_event, on_progress
        self._run_frames = 0  # ffmpeg's count in the current run (video without TS output)
        self._base_frames = 0
        self._run_started_at = self._quiet_at = clock()
        self._run_frames_at_start = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.stopping = False
        self.ffmpeg = FfmpegProcess(
            args, name=name, stall_timeout=None, restart=restart, backoff=backoff,
            # frames of a process with TS output are counted on it, not from ffmpeg's reports
            progress_period=PROGRESS_PERIOD if self.feed is None else TS_PROGRESS_PERIOD,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if read_output else asyncio.subprocess.DEVNULL,
            on_output=self._output if ts_output else None,
            on_progress=self._progress, on_event=self._event, redact=redact,
        )

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        await self.ffmpeg.start()
        self._spawn(self._watch())

    async def stop(self, grace: float = 3.0) -> None:
        self.stopping = True
        try:
            await self.ffmpeg.stop(grace)
        finally:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def running(self) -> bool:
        return self.ffmpeg.running

    @property
    def restarts(self) -> int:
        return self.ffmpeg.restarts

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- input ---------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Input for the current run's stdin; dropped (and counted) while there is no run or
        it has fallen MAX_STDIN_QUEUE bytes behind."""
        stdin = self.ffmpeg.stdin
        if stdin is None or stdin.is_closing():
            self.dropped_input += len(data)
            return
        if stdin.transport.get_write_buffer_size() > MAX_STDIN_QUEUE:
            self.dropped_input += len(data)
            return
        stdin.write(data)

    # -- output and progress -------------------------------------------------------------------
    def _event(self, event: SupervisorEvent) -> None:
        if event.kind == "started":
            self._base_frames += self._run_frames
            self._run_frames = 0
            self._run_started_at = self._clock()
            self._run_frames_at_start = self.frames.total
            stdout = self.ffmpeg.stdout
            if self.feed is not None:
                self.feed.restarted()
            if stdout is not None and self._read_output is not None:
                self._spawn(self._read_output(stdout))
        if self._on_event is not None:
            self._on_event(event, self)

    def _output(self, data: bytes) -> None:
        """MPEG-TS from the current run's stdout, as each pipe read brings it."""
        assert self.feed is not None
        self.feed.push(data)
        self.ffmpeg.healthy()

    def _progress(self, progress: Progress) -> None:
        if self.feed is None and not progress.ended:  # a flush at exit is not media moving
            before = self.frames.total
            if self.audio and self._input_frames is not None:
                self.frames.set_total(self._input_frames.total)
            else:
                self._run_frames = progress.frame
                self.frames.set_total(self._base_frames + progress.frame)
            if self.frames.total > before:
                self.ffmpeg.healthy()
        if self._on_progress is not None:
            self._on_progress(progress)

    # -- stall rule ----------------------------------------------------------------------------
    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_PERIOD)
            reason = self.stalled()
            if reason:
                log.warning("media process %s stalled: %s", self.name, reason)
                await self.ffmpeg.interrupt(reason)

    def stalled(self) -> str:
        """Why the current run counts as stalled now ("" when it does not)."""
        if self.stall_timeout is None or self.ffmpeg.pid is None:
            return ""
        now = self._clock()
        if self._input_idle is not None:
            idle_input = self._input_idle()
            if idle_input is None or idle_input > INPUT_LIVE:
                self._quiet_at = now  # nothing to work on: the source's problem, not ours
                return ""
        since = max(self._run_started_at, self._quiet_at)
        moved = self.frames.idle_for()
        if self.frames.total > self._run_frames_at_start and moved is not None:
            since = max(since, now - moved)
            if now - since > self.stall_timeout:
                return f"no new frame for {self.stall_timeout:g} s"
        elif now - since > self.start_timeout:
            return f"no frame in {self.start_timeout:g} s"
        return ""

    def describe_failure(self) -> str:
        """The last lines of stderr that say something, for an error message (ffmpeg's
        closing lines about its threads, and its context addresses, are left out)."""
        tail = [_ADDRESS.sub("", line) for line in self.ffmpeg.stderr_tail
                if not line.startswith("[supervisor]") and not _FFMPEG_NOISE.search(line)]
        return " | ".join(tail[-3:]) or "no stderr output"


async def stop_all(processes: list[MediaProcess], grace: float = 3.0) -> None:
    """Stops several processes at once (each within `grace`)."""
    with contextlib.suppress(Exception):
        await asyncio.gather(*(p.stop(grace) for p in processes))
