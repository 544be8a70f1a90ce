"""Unit-testing grpc.aio servicers with grpcio-testing (no sockets).

grpc_testing calls servicer methods synchronously and has no asyncio support
(grpc/grpc#24942), so `SyncAdapter` runs each coroutine method on an event loop in a
background thread and returns its result; `context.abort` lands on grpc_testing's context, so
tests see the exact status code and details:

    with LoopThread() as loop:
        runtime = loop.run(make_runtime())
        server = grpc_testing.server_from_dictionary(
            {SERVICE_DESCRIPTOR: SyncAdapter(EntityServicer(runtime), loop)},
            grpc_testing.strict_real_time(),
        )
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An asyncio event loop running in a daemon thread, for calling async code from sync."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> LoopThread:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Tasks the code under test left running (an entity's spawned loop) are cancelled
        # and awaited, so none is destroyed pending when the loop closes.
        self.run(_cancel_pending(), timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


async def _cancel_pending() -> None:
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


class SyncAdapter:
    """Presents an aio servicer's async methods as the sync callables grpc_testing expects."""

    def __init__(self, servicer: object, loop: LoopThread) -> None:
        self._servicer = servicer
        self._loop = loop

    def __getattr__(self, name: str) -> Callable[[Any, Any], Any]:
        method = getattr(self._servicer, name)

        def call(request: Any, context: Any) -> Any:
            return self._loop.run(method(request, context))

        return call
