"""Shared fixtures of the project's own tests.

Helpers that are plain functions live in tests/support.py; fixtures live here.
"""

from __future__ import annotations

import pytest

from tests import support

pytest_plugins = ["mediagrid.simulator.camera.fixtures"]


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that the OS says is free right now."""
    return support.free_port()


@pytest.fixture
def ffprobe() -> str:
    """Path of ffprobe; fails (not skips) when it is missing, since .ci/run installs it."""
    return support.ffprobe_path()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Soak tests (@pytest.mark.soak) run only when asked for: `pytest -m soak`."""
    if "soak" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="a soak test: run it with -m soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)
