"""Stop and restart requests to a supervisor, and waiting with them in mind.

Every wait of the supervision loop (a start-up, a health period, a restart backoff, an ERROR
after giving up) ends early when a stop or a restart is asked, so RestartModule and Ctrl-C
act at once whatever the module is doing.
"""

from __future__ import annotations

import asyncio
import enum


class Request(enum.Enum):
    STOP = "stop"
    RESTART = "restart"


class Requests:
    def __init__(self) -> None:
        self.kind: Request | None = None
        self.reason = ""
        self._asked = asyncio.Event()
        self._spawned: list[asyncio.Future[None]] = []

    @property
    def stopping(self) -> bool:
        return self.kind is Request.STOP

    def ask(self, kind: Request, reason: str) -> None:
        """A stop wins over a restart and is never taken back."""
        if self.kind is not Request.STOP:
            self.kind, self.reason = kind, reason
        self._asked.set()

    def take_restart(self) -> str:
        """The restart is being made: returns its reason and forgets it."""
        reason, self.kind, self.reason = self.reason, None, ""
        self._asked.clear()
        return reason

    async def interrupted(self, *waits: asyncio.Future[object],
                          within: float | None = None) -> bool:
        """Waits for any of `waits`, or `within` seconds; True when a stop or restart is
        asked."""
        if self.kind is not None:
            return True
        asked = asyncio.ensure_future(self._asked.wait())
        try:
            await asyncio.wait({*waits, asked}, timeout=within,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            asked.cancel()
        return self.kind is not None

    def when_spawned(self) -> asyncio.Future[None]:
        """A future set once the next process is spawned (RestartModule answers then)."""
        future = asyncio.get_running_loop().create_future()
        self._spawned.append(future)
        return future

    def spawned(self) -> None:
        for future in self._spawned:
            if not future.done():
                future.set_result(None)
        self._spawned.clear()
