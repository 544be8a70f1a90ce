"""RTSP 1.0 (RFC 2326) messages: parsing requests, formatting responses, the Transport header.

Plain data and pure functions only; the connection handling lives in session.py.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field

MAX_BODY = 64 * 1024
SERVER_NAME = "mediagrid-fake-camera/1.0"

REASONS: dict[int, str] = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}

PUBLIC_METHODS = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"


class RtspError(Exception):
    """A request that gets an error status instead of being handled."""

    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(f"{status} {REASONS.get(status, '')}: {detail}")
        self.status = status
        self.detail = detail


@dataclass
class Request:
    method: str
    url: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)  # keys lower-cased
    body: bytes = b""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def cseq(self) -> str:
        return self.header("cseq", "0")


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def encode(self, cseq: str) -> bytes:
        lines = [f"RTSP/1.0 {self.status} {REASONS.get(self.status, 'Unknown')}", f"CSeq: {cseq}"]
        lines.append(f"Server: {SERVER_NAME}")
        for name, value in self.headers.items():
            lines.append(f"{name}: {value}")
        if self.body:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


def parse_head(head: bytes) -> Request:
    """Parses a request line and headers (everything up to the blank line)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RtspError(400, "request is not UTF-8") from exc
    lines = text.split("\r\n")
    parts = lines[0].split()
    if len(parts) != 3:
        raise RtspError(400, f"bad request line {lines[0]!r}")
    method, url, version = parts
    if not version.startswith("RTSP/"):
        raise RtspError(400, f"not an RTSP request: {lines[0]!r}")
    if version != "RTSP/1.0":
        raise RtspError(505, version)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise RtspError(400, f"bad header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    return Request(method=method.upper(), url=url, version=version, headers=headers)


async def read_message(reader: asyncio.StreamReader) -> Request | None:
    """Reads the next request, skipping interleaved `$` frames (the client's RTCP reports).

    Returns None at end of stream.
    """
    while True:
        try:
            first = await reader.readexactly(1)
        except asyncio.IncompleteReadError:
            return None
        if first == b"$":
            try:
                header = await reader.readexactly(3)
                await reader.readexactly(struct.unpack("!H", header[1:])[0])
            except asyncio.IncompleteReadError:
                return None
            continue
        if first in b"\r\n":
            continue  # stray line ends between messages
        try:
            head = first + await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return None
        request = parse_head(head[:-4])
        length = int(request.header("content-length", "0") or 0)
        if length > MAX_BODY:
            raise RtspError(400, f"body of {length} bytes is larger than {MAX_BODY}")
        if length:
            request.body = await reader.readexactly(length)
        return request


def interleaved_frame(channel: int, payload: bytes) -> bytes:
    """RTP or RTCP over the RTSP connection (RFC 2326 10.12): `$`, channel, length, payload."""
    return struct.pack("!cBH", b"$", channel, len(payload)) + payload


TRANSPORTS = ("tcp", "udp")  # what `--transports` may name


@dataclass(frozen=True)
class Transport:
    """RTP and RTCP interleaved on the RTSP TCP connection (`$` frames on two channels)."""

    rtp_channel: int
    rtcp_channel: int

    def header(self) -> str:
        return f"RTP/AVP/TCP;unicast;interleaved={self.rtp_channel}-{self.rtcp_channel}"


@dataclass(frozen=True)
class UdpOffer:
    """A client's `RTP/AVP;unicast;client_port=a-b`: the UDP ports it receives RTP and RTCP on.
    The server answers with the ports it sends from (`UdpOffer.header`)."""

    client_rtp: int
    client_rtcp: int
    profile: str = "RTP/AVP"  # or "RTP/AVP/UDP", echoed as the client wrote it

    def header(self, server_rtp: int, server_rtcp: int) -> str:
        return (f"{self.profile};unicast;client_port={self.client_rtp}-{self.client_rtcp}"
                f";server_port={server_rtp}-{server_rtcp}")


def _params(spec: str) -> tuple[str, dict[str, str]]:
    parts = [p.strip() for p in spec.split(";")]
    values: dict[str, str] = {}
    for param in parts[1:]:
        name, _, value = param.partition("=")
        values[name.strip().lower()] = value.strip()
    return parts[0].upper(), values


def _port_range(name: str, value: str) -> tuple[int, int]:
    low, _, high = value.partition("-")
    try:
        first = int(low)
        second = int(high) if high else first + 1
    except ValueError as exc:
        raise RtspError(400, f"bad {name}={value!r}") from exc
    return first, second


def choose_transport(
    header: str, default_channel: int, allowed: tuple[str, ...] = TRANSPORTS
) -> Transport | UdpOffer:
    """Picks the first spec of a SETUP's Transport header (the client's order of preference)
    that this server serves: `RTP/AVP/TCP` (interleaved) when "tcp" is allowed,
    `RTP/AVP[/UDP];unicast;client_port=a-b` when "udp" is. Multicast is never served.

    Raises RtspError 461 when nothing offered is served; ffmpeg and VLC then retry with TCP.
    """
    for spec in header.split(","):
        profile, params = _params(spec)
        if profile == "RTP/AVP/TCP" and "tcp" in allowed:
            rtp, rtcp = default_channel, default_channel + 1
            if params.get("interleaved"):
                rtp, rtcp = _port_range("interleaved", params["interleaved"])
            if not (0 <= rtp <= 255 and 0 <= rtcp <= 255):
                raise RtspError(400, "interleaved channels must be 0-255")
            return Transport(rtp, rtcp)
        if profile in ("RTP/AVP", "RTP/AVP/UDP") and "udp" in allowed:
            if "multicast" in params or not params.get("client_port"):
                continue
            rtp, rtcp = _port_range("client_port", params["client_port"])
            if not (0 < rtp <= 65535 and 0 < rtcp <= 65535):
                raise RtspError(400, "client_port must be 1-65535")
            return UdpOffer(rtp, rtcp, profile)
    served = " or ".join(
        {"tcp": "RTP/AVP/TCP (interleaved)", "udp": "RTP/AVP;unicast;client_port=a-b"}[name]
        for name in allowed
    )
    raise RtspError(461, f"only {served} is served; offered {header!r}")


def url_path(url: str) -> str:
    """The path of an rtsp:// URL without the leading slash: `rtsp://h:1/cam/trackID=0` ->
    `cam/trackID=0`."""
    rest = url.split("://", 1)[1] if "://" in url else url
    path = rest.split("/", 1)[1] if "/" in rest else ""
    return path.split("?", 1)[0].strip("/")
