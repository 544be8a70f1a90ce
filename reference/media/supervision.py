"""Process plumbing of the supervisor: its events, signals to process groups, pipes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from mediagrid.reference.media.progress import Progress

log = logging.getLogger(__name__)
OUTPUT_READ = 65536
"""Bytes read from a run's stdout at most per wake-up: all a pipe holds (more would make
each read allocate, and give back, a block of its own)."""

EventKind = Literal["started", "stalled", "exited", "restarting", "gave_up", "stopped"]
MANAGED_OPTIONS = ("-progress", "-stats_period")


@dataclass(frozen=True)
class SupervisorEvent:
    """Something the supervisor did or saw; `run` counts ffmpeg starts from 1."""

    kind: EventKind
    run: int
    pid: int | None = None
    exit_code: int | None = None
    delay: float | None = None
    detail: str = ""


def checked_args(args: Sequence[str]) -> tuple[str, ...]:
    checked = tuple(str(a) for a in args)
    if not checked:
        raise ValueError("ffmpeg args are empty: pass [ffmpeg_path(), '-i', ..., output]")
    if clash := [a for a in checked if a in MANAGED_OPTIONS]:
        raise ValueError(f"{clash[0]} is set by the supervisor: remove it from the args")
    return checked


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def put_dropping_oldest(queue: asyncio.Queue[Progress | None], item: Progress | None) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


async def reader_for_fd(fd: int) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    pipe = os.fdopen(fd, "rb", buffering=0)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), pipe
    )
    return reader, transport


class OutputPipe:
    """A run's stdout read straight from its pipe: each read's bytes go to `on_data`, with no
    StreamReader or task in between, so media output costs one callback per pipe read.

        output = OutputPipe(on_data)          # before the spawn: the child gets write_fd
        output.start()                        # after it: our copy of write_fd is closed
        output.close()                        # after the exit: what is left goes on, then closed
    """

    def __init__(self, on_data: Callable[[bytes], None]) -> None:
        self._on_data = on_data
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        os.close(self.write_fd)
        self.write_fd = -1
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.read_fd, self._readable)

    def _readable(self) -> bool:
        """Hands on what waits in the pipe; False at its end (or when nothing waits)."""
        try:
            data = os.read(self.read_fd, OUTPUT_READ)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if not data:
            if self._loop is not None:
                self._loop.remove_reader(self.read_fd)
            return False
        try:
            self._on_data(data)
        except Exception:  # the stream goes on; the failure is written to stderr
            log.exception("reading ffmpeg's output failed")
        return True

    def close(self) -> None:
        if self.read_fd < 0:
            return
        while self._loop is not None and self._readable():
            pass
        if self._loop is not None:
            self._loop.remove_reader(self.read_fd)
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                os.close(fd)
        self.read_fd = self.write_fd = -1
