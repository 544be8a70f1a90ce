"""Endpoints for every role of a connection (docs/contract.md §4.1).

- TARGET: the SDK pre-fills `link.endpoint` with the URL the source sends to; the target
  listens there (`Receiver` binds it; `listen_url()` is the ffmpeg input URL for a target that
  lets ffmpeg listen itself).
- SOURCE: sends to `link.endpoint.url`, the target's answer.
- LOCAL: both ends are in this module; `local_endpoint()` gives a free loopback port so the
  two ends move media exactly as they would across modules.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from mediagrid.reference.media import presets
from mediagrid.sdk.entity import Endpoint
from mediagrid.sdk.errors import FailedPrecondition, InvalidArgument

SCHEMES = {"mpegts-udp": "udp", "mpegts-tcp": "tcp", "srt": "srt"}
RELAYED = ("mpegts-udp", "mpegts-tcp")
"""The transports the media layer's own receiver and sender speak."""


@dataclass(frozen=True)
class Address:
    transport: str
    host: str
    port: int

    @property
    def family(self) -> int:
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET

    @property
    def url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host


def address_of(endpoint: Endpoint) -> Address:
    """The transport, host and port of an endpoint; INVALID_ARGUMENT naming what is wrong."""
    transport = endpoint.transport or "mpegts-udp"
    if transport not in SCHEMES:
        raise InvalidArgument(
            f"endpoint.transport {transport!r} is not a transport: use one of {', '.join(SCHEMES)}"
        )
    parts = urlsplit(endpoint.url)
    if parts.scheme != SCHEMES[transport]:
        raise InvalidArgument(
            f"endpoint.url {endpoint.url!r} does not match transport {transport!r}: it must"
            f" start with {SCHEMES[transport]}://"
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or not port:
        raise InvalidArgument(
            f"endpoint.url {endpoint.url!r} has no host and port: pass the URL the target's"
            " module returned, like udp://127.0.0.1:40123?pkt_size=1316"
        )
    return Address(transport, parts.hostname, port)


def send_url(address: Address) -> str:
    """The URL a source sends to (contract §4.1's `MediaEndpoint.url`)."""
    host, port = address.url_host, address.port
    if address.transport == "mpegts-udp":
        return f"udp://{host}:{port}?pkt_size={presets.TS_PACKET_SIZE}"
    if address.transport == "mpegts-tcp":
        return f"tcp://{host}:{port}"
    return f"srt://{host}:{port}?mode=caller&latency=120000&transtype=live"


def listen_url(endpoint: Endpoint) -> str:
    """The ffmpeg input URL with which a target listens on `endpoint` itself."""
    address = address_of(endpoint)
    if address.transport == "mpegts-udp":
        return presets.udp_listen_url(address.port, address.url_host)
    if address.transport == "mpegts-tcp":
        return presets.tcp_listen_url(address.port, address.url_host)
    return presets.srt_listen_url(address.port, address.url_host)


def local_endpoint(transport: str = "mpegts-udp", host: str = "127.0.0.1") -> Endpoint:
    """A free loopback port for a LOCAL link (both ends in this module)."""
    if transport not in RELAYED:
        raise FailedPrecondition(
            f"transport {transport!r} is not relayed by mediagrid.sdk.media: use mpegts-udp"
        )
    kind = socket.SOCK_DGRAM if transport == "mpegts-udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        port = sock.getsockname()[1]
    return Endpoint(send_url(Address(transport, host, port)), transport)
