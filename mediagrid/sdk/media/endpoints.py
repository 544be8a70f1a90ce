"""Endpoints for every role of a connection (docs/contract.md §4.1), on top of the SDK's
(`mediagrid.sdk.endpoints`, `mediagrid.codecs`).

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

from mediagrid.codecs import DEFAULT_TRANSPORT, SCHEMES
from mediagrid.sdk.endpoints import ENDPOINT_URLS, LISTEN_URLS
from mediagrid.sdk.entity import Endpoint
from mediagrid.sdk.errors import FailedPrecondition, InvalidArgument

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
    transport = endpoint.transport or DEFAULT_TRANSPORT
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


def listening(address: Address, bind_host: str) -> str:
    """The ffmpeg input URL of contract §4.1 for `address`'s port, bound to `bind_host`."""
    bind = f"[{bind_host}]" if ":" in bind_host else bind_host
    return LISTEN_URLS[address.transport].format(bind=bind, port=address.port, local=bind_host)


def listen_url(endpoint: Endpoint, bind_host: str = "127.0.0.1") -> str:
    """The ffmpeg input URL with which a target listens on `endpoint` itself (the SDK's
    `listen_url` of a TARGET link when it has one)."""
    return endpoint.listen_url or listening(address_of(endpoint), bind_host)


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
    address = Address(transport, host, port)
    url = ENDPOINT_URLS[transport][1].format(host=address.url_host, port=port)
    return Endpoint(url, transport, listen_url=listening(address, host))
