"""Continuous draining of a child's stderr into a bounded tail of lines.

ffmpeg blocks when its stderr pipe fills, so a supervisor must read it all the time. Lines end
with \\n or \\r (ffmpeg's status line uses \\r); each kept line is capped in length.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

MAX_LINE = 2000


class StderrTail:
    """The last `lines` lines of stderr, across runs, with run markers between them."""

    def __init__(
        self, lines: int = 50, *, logger: logging.Logger | None = None,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        if lines < 1:
            raise ValueError(f"stderr tail must keep at least 1 line, got {lines}")
        self._lines: deque[str] = deque(maxlen=lines)
        self._logger = logger
        self._redact = redact
        """Applied to every line before it is kept or logged (a password in a URL...)."""

    def add(self, line: str) -> None:
        if self._redact is not None:
            line = self._redact(line)
        line = line.rstrip()
        if not line:
            return
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE] + " [...]"
        self._lines.append(line)
        if self._logger is not None:
            self._logger.debug("%s", line)

    def lines(self) -> tuple[str, ...]:
        return tuple(self._lines)

    async def drain(self, stream: asyncio.StreamReader) -> None:
        """Reads `stream` to EOF, keeping complete lines (and a trailing partial one)."""
        pending = b""
        while chunk := await stream.read(65536):
            pending += chunk.replace(b"\r", b"\n")
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                self.add(raw.decode("utf-8", "replace"))
            if len(pending) > MAX_LINE * 4:  # a runaway line with no end: keep its head
                self.add(pending.decode("utf-8", "replace"))
                pending = b""
        if pending:
            self.add(pending.decode("utf-8", "replace"))
