"""Helpers of the media tests: process liveness and short ffmpeg command lines."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from mediagrid.reference.media import ffmpeg_path

FFMPEG = ffmpeg_path()


def alive(pid: int) -> bool:
    """True while `pid` is a live process (a zombie awaiting its reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_dead(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


def group_gone(pgid: int, timeout: float = 5.0) -> bool:
    """True once no process (not even a zombie) is left in process group `pgid`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def live_testsrc(output: str = "-", *, size: str = "160x120", fmt: str = "null") -> list[str]:
    """An endless real-time test pattern: a stand-in for a live stream."""
    return [
        FFMPEG, "-re", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25",
        "-c:v", "libx264", "-preset", "ultrafast", "-f", fmt, output,
    ]


def udp_receiver(port: int, output: str = "-", fmt: str = "null") -> list[str]:
    """ffmpeg reading MPEG-TS on a UDP port, with short probing so it starts at once."""
    return [
        FFMPEG, "-probesize", "32768", "-analyzeduration", "200000",
        "-i", f"udp://127.0.0.1:{port}", "-c", "copy", "-f", fmt, output,
    ]


async def send_udp_burst(port: int, seconds: float) -> None:
    """Sends `seconds` of real-time MPEG-TS test video to a UDP port, then goes quiet."""
    import asyncio

    sender = await asyncio.create_subprocess_exec(
        FFMPEG, "-loglevel", "error", "-re", "-f", "lavfi",
        "-i", "testsrc2=size=64x48:rate=25", "-t", str(seconds),
        "-c:v", "mpeg2video", "-f", "mpegts", f"udp://127.0.0.1:{port}",
    )
    try:
        await asyncio.wait_for(sender.wait(), seconds + 10)
    finally:
        if sender.returncode is None:
            sender.kill()
            await sender.wait()


async def eventually(
    predicate: Callable[[], bool], within: float = 15.0, period: float = 0.05
) -> None:
    """Polls `predicate` until it holds; TimeoutError after `within` s (tests never hang)."""
    import asyncio

    async with asyncio.timeout(within):
        while True:
            if predicate():
                return
            await asyncio.sleep(period)
