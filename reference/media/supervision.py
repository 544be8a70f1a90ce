"""Process plumbing of the supervisor: its events, signals to process groups, pipes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mediagrid.reference.media.progress import Progress

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
