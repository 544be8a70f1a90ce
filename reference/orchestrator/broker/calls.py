"""One call to a module, and the locks that keep desired state and modules in step.

A module's answer is forwarded unchanged: its status code and message become the
orchestrator's. A module that is not READY (as the orchestrator sees it: READY only once its
desired state is re-created) gets UNAVAILABLE naming it and its state, without a call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import grpc

from mediagrid.reference.orchestrator.desired_state import DesiredState
from mediagrid.reference.orchestrator.errors import CallError, unavailable
from mediagrid.reference.orchestrator.modules import ModuleRegistry, state_name
from mediagrid.reference.orchestrator.supervision.supervisor import ModuleSupervisor


class ModuleLocks:
    """One lock per module id. A change holds the locks of every module it touches, taken in
    id order (so two changes never wait on each other in a circle); the re-creation after a
    restart holds them too, so no call slips in between a module's restart and its
    re-creation."""

    def __init__(self) -> None:
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @contextlib.asynccontextmanager
    async def hold(self, module_ids: Iterable[str]) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for module_id in sorted(set(module_ids)):
                await stack.enter_async_context(self._locks[module_id])
            yield


@dataclass
class Broker:
    """What every brokered call needs."""

    modules: ModuleRegistry
    store: DesiredState
    locks: ModuleLocks
    call_timeout: float = 30.0


async def call(supervisor: ModuleSupervisor, service: str, method: str, request: Any,
               deadline: float) -> Any:
    """`service` is "entities", "pipeline" or "module". Raises CallError with the module's
    own status code and message when it refuses."""
    instance = supervisor.instance
    if instance is None or not instance.is_open:
        view = supervisor.view
        raise unavailable(f"module {supervisor.id!r} is {state_name(view.state)}, not READY:"
                          " retry when it is READY (GetModule shows its state)")
    stub = getattr(instance, service)
    try:
        return await getattr(stub, method)(request, timeout=deadline, metadata=instance.metadata)
    except grpc.aio.AioRpcError as exc:
        raise CallError.from_rpc(exc) from None


SIDE_RETRY = 0.1  # seconds between asks of a live module that refused with UNAVAILABLE


async def remove_side(supervisor: ModuleSupervisor, method: str, request: Any,
                      deadline: float) -> Any | None:
    """`method` (DisconnectEntities, StopFlow) on one module's side of something services
    removed; None when nothing is left there: NOT_FOUND (a new instance never had it), or a
    module not running (its re-creation skips what was removed). A module that is alive but
    answers UNAVAILABLE (its own state is ERROR while a dependency flaps, say) still holds its
    side, so it is asked again until `deadline`: otherwise the side would outlive the desired
    state until that module restarts (found by `mediagrid chaos`, docs/chaos.md)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while True:
        instance = supervisor.instance
        try:
            return await call(supervisor, "pipeline", method, request,
                              max(0.05, end - loop.time()))
        except CallError as exc:
            alive = instance is not None and instance.is_open and \
                supervisor.instance is instance and not instance.process.exited
            if exc.code == grpc.StatusCode.UNAVAILABLE and alive and \
                    loop.time() + SIDE_RETRY < end:
                await asyncio.sleep(SIDE_RETRY)
                continue
            if exc.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE):
                return None
            raise


def code_of(exc: BaseException) -> grpc.StatusCode | None:
    return exc.code if isinstance(exc, CallError) else None
