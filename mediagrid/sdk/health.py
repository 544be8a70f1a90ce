"""grpc.health.v1.Health derived from the module state (rule H-7).

`Check` reads the state at the moment of the call, so it says SERVING exactly while the module
is READY: there is no second copy of the status that could lag behind a state change. `Watch`
sends the current status and then each change, for the services "" and ModuleService.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mediagrid.sdk.state import ModuleState, ModuleStatusTracker

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


class ModuleHealth(health_pb2_grpc.HealthServicer):
    def __init__(self, status: ModuleStatusTracker, services: tuple[str, ...]) -> None:
        self._status = status
        self._services = frozenset(services)
        self._changed = asyncio.Event()
        status.listeners.append(self._on_state)

    def serving_status(self, service: str) -> int:
        if service not in self._services:
            return SERVICE_UNKNOWN
        return SERVING if self._status.state is ModuleState.READY else NOT_SERVING

    def _on_state(self, old: ModuleState, new: ModuleState) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()  # wakes every Watch; later changes use the new event

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        status = self.serving_status(request.service)
        if status == SERVICE_UNKNOWN:
            await context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"no health status for service {request.service!r}: ask for '' or"
                f" {', '.join(sorted(s for s in self._services if s))}",
            )
        return health_pb2.HealthCheckResponse(status=status)

    async def Watch(
        self, request: health_pb2.HealthCheckRequest, context: Any
    ) -> AsyncIterator[health_pb2.HealthCheckResponse]:
        last = None
        while True:
            changed = self._changed  # taken before reading: no change can slip in between
            status = self.serving_status(request.service)
            if status != last:
                yield health_pb2.HealthCheckResponse(status=status)
                last = status
            await changed.wait()
