"""Fixtures of the event bus tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A fresh state file path (the bus creates it)."""
    return tmp_path / "mediagrid-state.sqlite"
