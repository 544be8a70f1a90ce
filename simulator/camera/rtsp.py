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


@dataclass(frozen=True)
class Transport:
    """The one transport spec this server accepts: RTP over the RTSP TCP connection."""

    rtp_channel: int
    rtcp_channel: int

    def header(self) -> str:
        return f"RTP/AVP/TCP;unicast;interleaved={self.rtp_channel}-{self.rtcp_channel}"


def choose_transport(header: str, default_channel: int) -> Transport:
    """Picks the first TCP-interleaved spec of a SETUP's Transport header.

    Raises RtspError 461 when the client offers only UDP, so clients (ffmpeg, VLC) retry
    with TCP.
    """
    for spec in header.split(","):
        params = [p.strip() for p in spec.split(";")]
        if not params or params[0].upper() not in ("RTP/AVP/TCP",):
            continue
        rtp, rtcp = default_channel, default_channel + 1
        for param in params[1:]:
            name, _, value = param.partition("=")
            if name.lower() == "interleaved" and value:
                low, _, high = value.partition("-")
                try:
                    rtp = int(low)
                    rtcp = int(high) if high else rtp + 1
                except ValueError as exc:
                    raise RtspError(400, f"bad interleaved={value!r}") from exc
        if not (0 <= rtp <= 255 and 0 <= rtcp <= 255):
            raise RtspError(400, "interleaved channels must be 0-255")
        return Transport(rtp, rtcp)
    raise RtspError(461, f"only RTP/AVP/TCP (interleaved) is served; offered {header!r}")


def url_path(url: str) -> str:
    """The path of an rtsp:// URL without the leading slash: `rtsp://h:1/cam/trackID=0` ->
    `cam/trackID=0`."""
    rest = url.split("://", 1)[1] if "://" in url else url
    path = rest.split("/", 1)[1] if "/" in rest else ""
    return path.split("?", 1)[0].strip("/")
