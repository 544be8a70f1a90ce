"""pytest fixtures: `fake_camera` (a factory of fake cameras) and `gstreamer_rtsp_server`.

Loaded by tests/conftest.py (`pytest_plugins`). Another project can load them with
`pytest_plugins = ["mediagrid.simulator.camera.fixtures"]`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mediagrid.simulator.camera.process import FakeCamera, start_camera


@pytest.fixture
def fake_camera() -> Iterator[Callable[..., FakeCamera]]:
    """A factory: `fake_camera(size="320x240", fps=25, faults=["slow=0.5"], user="u",
    password="p", auth="basic")` starts `mediagrid camera` on a free port and returns a
    FakeCamera (`.url`, `.inject(fault)`, `.clear()`, `.drop()`, `.status()`). Every camera
    is stopped at teardown. Options: see process.camera_args."""
    cameras: list[FakeCamera] = []

    def factory(**options: Any) -> FakeCamera:
        camera = start_camera(**options)
        cameras.append(camera)
        return camera

    yield factory
    for camera in cameras:
        camera.stop()


def skip_or_fail(reason: str) -> None:
    """Skips a test that needs what the system lacks; fails it instead when CI is set."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so this does not skip: {reason}")
    pytest.skip(reason)


@pytest.fixture
def gstreamer_rtsp_server() -> Iterator[Any]:
    """GStreamer's RTSP server serving a 320x240 25 fps H.264 test pattern (`.url`).
    Skips with the packages to install when GStreamer is missing; fails instead under CI."""
    from mediagrid.simulator.gstreamer.launcher import GStreamerRtspServer, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    with GStreamerRtspServer() as server:
        yield server
