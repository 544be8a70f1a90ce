"""Plain helpers for every test: free ports, ffprobe, process liveness, polling.

Poll for a condition (`wait_until`, `eventually`) instead of sleeping and hoping: each returns
as soon as the condition holds and gives up after a bounded time, so tests never hang.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mediagrid.process import free_port

__all__ = [
    "ROOT", "alive", "eventually", "ffprobe_json", "ffprobe_path", "free_port", "group_gone",
    "wait_dead", "wait_until",
]

ROOT = Path(__file__).resolve().parent.parent


def ffprobe_path() -> str:
    path = shutil.which("ffprobe")
    if path is None:
        pytest.fail("ffprobe is not on PATH: apt-get install ffmpeg (.ci/run does)")
    return path


def ffprobe_json(target: str | Path, *extra: str, timeout: float = 30.0) -> dict[str, Any]:
    """Runs ffprobe on a file or URL and returns its JSON (streams and format)."""
    cmd = [
        ffprobe_path(), "-v", "error", "-print_format", "json",
        "-show_streams", "-show_format", *extra, str(target),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"ffprobe failed on {target}: {result.stderr.strip()}")
    return json.loads(result.stdout)


def alive(pid: int) -> bool:
    """True while `pid` is a live process (a zombie awaiting its reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0,
               period: float = 0.05) -> bool:
    """Polls `predicate` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(period)


def wait_dead(pid: int, timeout: float = 5.0) -> bool:
    """True once `pid` is gone (or a zombie) within `timeout` seconds."""
    return wait_until(lambda: not alive(pid), timeout)


def group_gone(pgid: int, timeout: float = 5.0) -> bool:
    """True once no process (not even a zombie) is left in process group `pgid`."""
    def gone() -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        return False
    return wait_until(gone, timeout)


async def eventually(predicate: Callable[[], bool], within: float = 15.0,
                     period: float = 0.05) -> None:
    """Polls `predicate` in the event loop until it holds; TimeoutError after `within` s."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - the condition lives outside the loop's reach
            await asyncio.sleep(period)
