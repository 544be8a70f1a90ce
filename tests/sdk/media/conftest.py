"""Fixtures of the media layer's tests: real MPEG-TS made by the bundled ffmpeg once."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from mediagrid.reference.media import ffmpeg_path

FRAMES, GOP = 50, 10


def encode(*args: str, frames: int = FRAMES, gop: int = GOP, codec: str = "libx264") -> bytes:
    """MPEG-TS of `frames` frames of testsrc2 (160x120, 25 fps) with a keyframe every `gop`."""
    return subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "testsrc2=size=160x120:rate=25", "-frames:v", str(frames), "-c:v", codec,
         "-g", str(gop), "-bf", "0", *args, "-f", "mpegts", "-muxdelay", "0", "pipe:1"],
        capture_output=True, check=True, timeout=60).stdout


@pytest.fixture(scope="session")
def h264_ts() -> bytes:
    return encode()


@pytest.fixture(scope="session")
def other_ts() -> bytes:
    """Another encoder's stream (another bitrate), as a quality switch brings."""
    return encode("-b:v", "50k", gop=5)


@pytest.fixture(scope="session")
def aac_ts() -> bytes:
    return subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "sine=frequency=440:sample_rate=48000", "-t", "1", "-c:a", "aac", "-f", "mpegts",
         "pipe:1"], capture_output=True, check=True, timeout=60).stdout


Chunker = Callable[[bytes, int], list[bytes]]


@pytest.fixture
def chunks() -> Chunker:
    """Cuts bytes into pieces of `size` (a pipe read gives arbitrary pieces)."""
    return lambda data, size: [data[i : i + size] for i in range(0, len(data), size)]
