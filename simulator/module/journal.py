"""The simulated module's journal: what it knows for certain, for the chaos runner's checks.

One JSON object per line, appended to DIR/MODULE_ID.jsonl by every instance of the module
(MEDIAGRID_SIM_JOURNAL=DIR). Each line is one write() on a file opened O_APPEND, so lines of
concurrent writers never interleave and a line written before a SIGKILL is kept:

    {"kind": "start", "t": ..., "instance": ..., "pid": ..., "port": ...}
    {"kind": "ack", "t": ..., "instance": ..., "first": 12, "last": 15}   # acknowledged
    {"kind": "lost", ..., "first": 16, "last": 16}     # thrown away unsent (fault `lose`)
    {"kind": "crash", ..., "how": "sigkill", "why": ...}
    {"kind": "faults", ..., "faults": {...}}           # a new fault set in force

The `ack` lines are the ground truth of the event history checker: every report the
orchestrator acknowledged, by instance and sequence.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

VARIABLE = "MEDIAGRID_SIM_JOURNAL"


class Journal:
    def __init__(self, folder: Path, module_id: str, instance: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{module_id}.jsonl"
        self.instance = instance
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    @classmethod
    def from_env(cls, module_id: str, instance: str) -> Journal | None:
        folder = os.environ.get(VARIABLE, "")
        return cls(Path(folder), module_id, instance) if folder else None

    def write(self, kind: str, **fields: Any) -> None:
        line = {"kind": kind, "t": time.time(), "instance": self.instance, **fields}
        os.write(self._fd, (json.dumps(line, separators=(",", ":")) + "\n").encode())

    def close(self) -> None:
        os.close(self._fd)


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The lines of a journal file; a torn last line (a crash mid-write) is skipped."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return
    for line in text.splitlines():
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            continue
