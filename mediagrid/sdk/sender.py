"""Sends reports to the orchestrator's EventService over gRPC, with the bearer token, and over
TLS when the orchestrator's CA is given (rule S-9)."""

from __future__ import annotations

import grpc

from mediagrid.v1 import event_pb2, event_pb2_grpc

# Reconnect quickly once the orchestrator is back; the reporter's own backoff paces retries.
RECONNECT_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.min_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 2000),
)


class GrpcReportSender:
    """One report: ReportEvent / ReportStatus / ReportMetrics. Several: ReportBatch."""

    def __init__(
        self, address: str, *, token: str = "", timeout: float = 5.0,
        ca: bytes | None = None, client_cert: bytes | None = None,
        client_key: bytes | None = None,
    ) -> None:
        """`timeout` is every call's deadline (rule E-23). With `ca` (PEM) the channel is TLS,
        trusting that CA for the orchestrator's certificate; `client_cert` and `client_key`
        (PEM) are presented to an orchestrator that requires mutual TLS."""
        self.address = address
        self.timeout = timeout
        self._metadata = (("authorization", f"Bearer {token}"),) if token else None
        if ca is None:
            self._channel = grpc.aio.insecure_channel(address, options=RECONNECT_OPTIONS)
        else:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=ca, private_key=client_key, certificate_chain=client_cert
            )
            self._channel = grpc.aio.secure_channel(address, credentials,
                                                    options=RECONNECT_OPTIONS)
        self._stub = event_pb2_grpc.EventServiceStub(self._channel)

    async def send(self, reports: list[event_pb2.ModuleReport]) -> None:
        kw = {"timeout": self.timeout, "metadata": self._metadata}
        if len(reports) > 1:
            await self._stub.ReportBatch(event_pb2.ReportBatchRequest(reports=reports), **kw)
            return
        report = reports[0]
        kind = report.WhichOneof("report")
        if kind == "event":
            await self._stub.ReportEvent(
                event_pb2.ReportEventRequest(header=report.header, event=report.event), **kw
            )
        elif kind == "status":
            await self._stub.ReportStatus(
                event_pb2.ReportStatusRequest(header=report.header, status=report.status), **kw
            )
        else:
            await self._stub.ReportMetrics(
                event_pb2.ReportMetricsRequest(header=report.header, metrics=report.metrics), **kw
            )

    async def close(self) -> None:
        await self._channel.close()
