"""Security of the orchestrator's server and of its calls to modules (contract §7).

Server: the bearer token on every mediagrid call (rule S-2, health and reflection stay open),
TLS only when TLS files are set (rule S-4, mutual with a client CA), 4 MiB message limit both
ways (rule S-5). Calls to modules: the same token (rule S-3) and TLS when the modules serve it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from mediagrid.manifest.process import ChannelFactory
from mediagrid.reference.orchestrator.settings import OrchestratorSettings, SettingsError
from mediagrid.sdk.auth import TokenInterceptor


def server_options(settings: OrchestratorSettings) -> list[tuple[str, Any]]:
    return [("grpc.max_receive_message_length", settings.max_message),
            ("grpc.max_send_message_length", settings.max_message),
            ("grpc.so_reuseport", 0)]  # a taken port is an error, not a shared listener


def interceptors(settings: OrchestratorSettings) -> list[grpc.aio.ServerInterceptor]:
    return [TokenInterceptor(settings.token)] if settings.token else []


def server_credentials(settings: OrchestratorSettings) -> grpc.ServerCredentials | None:
    if settings.tls is None:
        return None
    cert, key, client_ca = settings.tls.read()
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca,
                                       require_client_auth=client_ca is not None)


# Dial a module again within a tenth of a second after its connection broke (gRPC's own
# backoff starts at 1 s and grows): a module reachable again must pass its next health
# check, or a blip shorter than a health period would cost it a restart (a 300 ms outage did,
# at a 300 ms health period: `mediagrid chaos fixtures/chaos/slow-network.yaml`).
RECONNECT = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.min_reconnect_backoff_ms", 100),
             ("grpc.max_reconnect_backoff_ms", 1000)]


def channel_factory(settings: OrchestratorSettings) -> ChannelFactory:
    """How the orchestrator dials its modules: TLS when it passes them TLS files."""
    limits = [("grpc.max_receive_message_length", settings.max_message),
              ("grpc.max_send_message_length", settings.max_message),
              *RECONNECT]
    if settings.tls is None:
        def plain(address: str, options: Sequence[tuple[str, Any]] = ()) -> grpc.aio.Channel:
            return grpc.aio.insecure_channel(address, options=[*limits, *options])
        return plain
    cert, key, client_ca = settings.tls.read()
    try:
        trusted = settings.tls.trusted.read_bytes()
    except OSError as exc:
        raise SettingsError(f"{settings.tls.trusted} cannot be read ({exc.strerror}): point"
                            " MEDIAGRID_ORCHESTRATOR_CA_FILE at a readable PEM file") from exc
    credentials = grpc.ssl_channel_credentials(
        root_certificates=trusted,
        private_key=key if client_ca else None,
        certificate_chain=cert if client_ca else None)

    def secure(address: str, options: Sequence[tuple[str, Any]] = ()) -> grpc.aio.Channel:
        return grpc.aio.secure_channel(address, credentials, options=[*limits, *options])
    return secure


def metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),) if token else ()
