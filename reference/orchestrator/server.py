"""The orchestrator's one gRPC server: OrchestratorService for services, EventService for
modules, grpc.health.v1 and reflection for probes and grpcurl.

Token on every mediagrid call (S-2), TLS when set (S-4), 4 MiB messages (S-5), loopback
unless told otherwise (S-1); see security.py.
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from mediagrid.reference.orchestrator import security
from mediagrid.reference.orchestrator.settings import OrchestratorSettings, SettingsError
from mediagrid.v1 import event_pb2, event_pb2_grpc, orchestrator_pb2, orchestrator_pb2_grpc

ORCHESTRATOR_SERVICE = orchestrator_pb2.DESCRIPTOR.services_by_name["OrchestratorService"].full_name
EVENT_SERVICE = event_pb2.DESCRIPTOR.services_by_name["EventService"].full_name
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


class AddressInUse(RuntimeError):
    """The address could not be bound (another orchestrator runs there?)."""


class OrchestratorServer:
    def __init__(self, settings: OrchestratorSettings,
                 api: orchestrator_pb2_grpc.OrchestratorServiceServicer,
                 events: event_pb2_grpc.EventServiceServicer) -> None:
        self.settings = settings
        self.server = grpc.aio.server(interceptors=security.interceptors(settings),
                                      options=security.server_options(settings))
        orchestrator_pb2_grpc.add_OrchestratorServiceServicer_to_server(api, self.server)
        event_pb2_grpc.add_EventServiceServicer_to_server(events, self.server)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (ORCHESTRATOR_SERVICE, EVENT_SERVICE, HEALTH_SERVICE, reflection.SERVICE_NAME),
            self.server)
        self.port = 0

    async def start(self) -> int:
        """Binds and serves; returns the port (the one chosen when the address says 0)."""
        address = self.settings.address
        credentials = security.server_credentials(self.settings)
        try:
            if credentials is None:
                self.port = self.server.add_insecure_port(address)
            else:
                self.port = self.server.add_secure_port(address, credentials)
        except RuntimeError as exc:
            raise AddressInUse(f"cannot listen on {address}: the port is in use (another"
                               " orchestrator?) or the host is not a local address; choose"
                               " another with --address HOST:PORT") from exc
        if not self.port:
            raise SettingsError(f"cannot listen on {address}: check --address")
        await self.server.start()
        for service in ("", ORCHESTRATOR_SERVICE, EVENT_SERVICE):
            await self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        return self.port

    async def stop(self, grace: float = 1.0) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
