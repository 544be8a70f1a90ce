"""One orchestrator per state file: an exclusive lock on `<state file>.lock`.

The kernel drops the lock when the process ends, even by SIGKILL, so a restarted orchestrator
takes the file over at once; a second one started beside the first gets a clear error.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from mediagrid.reference.orchestrator.settings import SettingsError


class StateFileLock:
    def __init__(self, state_path: Path) -> None:
        self.path = state_path.with_name(state_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise SettingsError(f"cannot use the state file {self.path.parent}: {exc.strerror};"
                                " choose another with --state FILE") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise SettingsError(
                f"another orchestrator (pid {holder}) uses the state file"
                f" {self.path.with_suffix('')}: stop it, or choose another with --state FILE"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
