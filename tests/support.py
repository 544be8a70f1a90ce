"""Plain helpers for the tests: free ports, ffprobe, waiting on processes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mediagrid.process import free_port

__all__ = ["ROOT", "ffprobe_json", "ffprobe_path", "free_port"]

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
