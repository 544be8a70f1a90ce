"""Media endpoints of cross-module connections (contract §4.1; rules P-4, P-16, P-17, S-10):
the URL a source sends to, the URL a target listens with, and the checks of a SOURCE's
endpoint.

    endpoint = target_endpoint("mpegts-udp", bind_host="127.0.0.1", advertise_host="cams.lan")
    endpoint.url          # udp://cams.lan:40123?pkt_size=1316          (the source sends here)
    endpoint.listen_url   # udp://127.0.0.1:40123?localaddr=127.0.0.1&...  (ffmpeg reads here)
"""

from __future__ import annotations

import socket
import urllib.parse
from dataclasses import dataclass

from mediagrid.codecs import DEFAULT_TRANSPORT, SCHEMES
from mediagrid.sdk.errors import InvalidArgument
from mediagrid.sdk.settings import is_host, is_port
from mediagrid.sdk.types import MediaType
from mediagrid.v1 import common_pb2, pipeline_pb2


@dataclass
class Endpoint:
    """Where media crosses between processes: the target listens, the source sends to it.
    `url` is what the source sends to; on a TARGET link the SDK also fills `listen_url`, the
    §4.1 receiver URL bound to MEDIAGRID_BIND_HOST (rule S-10), to give ffmpeg as its input."""

    url: str
    transport: str = "mpegts-udp"
    format: common_pb2.MediaFormat | None = None
    listen_url: str = ""


# Per transport (contract §4.1): the URL a source sends to ({host} is the advertised host),
# and the URL the target's ffmpeg listens with ({bind} is MEDIAGRID_BIND_HOST, rule S-10).
ENDPOINT_URLS = {
    "mpegts-udp": ("udp", "udp://{host}:{port}?pkt_size=1316"),
    "mpegts-tcp": ("tcp", "tcp://{host}:{port}"),
    "srt": ("udp", "srt://{host}:{port}?mode=caller&latency=120000&transtype=live"),
}
LISTEN_URLS = {
    "mpegts-udp": "udp://{bind}:{port}?localaddr={local}&pkt_size=1316&fifo_size=65536"
                  "&overrun_nonfatal=1&timeout=5000000",
    "mpegts-tcp": "tcp://{bind}:{port}?listen=1",
    "srt": "srt://{bind}:{port}?mode=listener&latency=120000&transtype=live",
}


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def target_endpoint(
    transport: str, bind_host: str, advertise_host: str = "", codec: str = "",
    media_type: MediaType = MediaType.VIDEO,
) -> Endpoint:
    """A free port on `bind_host` for `transport`: the URL the source sends to (with the
    advertised host, rule P-17), the URL to listen with (rule S-10) and the format the target
    expects. An unknown transport is INVALID_ARGUMENT naming the known ones."""
    known_transport(transport, "transport_protocol")
    kind, template = ENDPOINT_URLS[transport]
    family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM) as sock:
        sock.bind((bind_host, 0))
        port = sock.getsockname()[1]
    media_format = common_pb2.MediaFormat(container="mpegts")
    if codec:
        setattr(media_format, "video_codec" if media_type is MediaType.VIDEO else "audio_codec",
                codec)
    return Endpoint(
        template.format(host=_url_host(advertise_host or bind_host), port=port), transport,
        media_format,
        listen_url=LISTEN_URLS[transport].format(bind=_url_host(bind_host), port=port,
                                                 local=bind_host),
    )


def known_transport(transport: str, field: str) -> None:
    if transport not in ENDPOINT_URLS:
        raise InvalidArgument(
            f"{field} {transport!r} is not a transport: use one of"
            f" {', '.join(ENDPOINT_URLS)} (or leave it empty for {DEFAULT_TRANSPORT})"
        )


def check_endpoint_url(endpoint: pipeline_pb2.MediaEndpoint, transport: str) -> None:
    """Role SOURCE: the URL has the transport's scheme, a host and a port (rule P-16)."""
    url = urllib.parse.urlsplit(endpoint.url)
    scheme = SCHEMES[transport]
    try:
        port = str(url.port) if url.port is not None else ""
    except ValueError:
        port = ""
    if url.scheme != scheme or not url.hostname or not is_host(url.hostname) \
            or not is_port(port):
        raise InvalidArgument(
            f"endpoint.url {endpoint.url!r} is not a {transport} endpoint: it must be"
            f" {scheme}://HOST:PORT..., as the target's module returned it"
        )
