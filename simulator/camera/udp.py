"""How one track's packets reach one client: interleaved on the RTSP connection, or as UDP
datagrams (RFC 2326 12.39, `RTP/AVP;unicast;client_port=a-b`).

For UDP the server binds an even/odd port pair per track on the address the client reached
the camera at (ports from the OS, never fixed ones) and sends each RTP packet from the even
port to the client's RTP port, each RTCP packet from the odd port to its RTCP port. The
client's own address is the RTSP connection's peer: a `destination=` in the request is not
obeyed, so the camera cannot be made to send a stream at a third party.

A sink's `send` returns False when the packet could not be queued (the client is backed up);
the session then drops it and restarts that client at the next keyframe.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from typing import Protocol

from mediagrid.simulator.camera.rtsp import RtspError, Transport, UdpOffer, interleaved_frame

WRITE_BUFFER_LIMIT = 2 * 1024 * 1024  # bytes queued for a slow TCP client before packets drop
SEND_BUFFER = 1024 * 1024  # SO_SNDBUF of each UDP socket: a keyframe burst fits
PAIR_ATTEMPTS = 64


class Sink(Protocol):
    kind: str  # "tcp" or "udp"

    def header(self) -> str: ...

    def send(self, rtcp: bool, packet: bytes) -> bool: ...

    def close(self) -> None: ...


class InterleavedSink:
    """`$` frames on the RTSP connection (RFC 2326 10.12)."""

    kind = "tcp"

    def __init__(self, writer: asyncio.StreamWriter, transport: Transport) -> None:
        self.writer = writer
        self.transport = transport

    def header(self) -> str:
        return self.transport.header()

    def send(self, rtcp: bool, packet: bytes) -> bool:
        tcp = self.writer.transport
        if tcp.is_closing():
            return True  # the connection is ending; nothing to restart
        if tcp.get_write_buffer_size() > WRITE_BUFFER_LIMIT:
            return False
        channel = self.transport.rtcp_channel if rtcp else self.transport.rtp_channel
        self.writer.write(interleaved_frame(channel, packet))
        return True

    def close(self) -> None:
        """The connection belongs to the session's Connection, which closes it."""


def bind_pair(host: str) -> tuple[socket.socket, socket.socket]:
    """Two non-blocking UDP sockets on `host`: RTP on an even port from the OS, RTCP on the
    next (odd) one. Raises RtspError 503 when no pair is free."""
    for _ in range(PAIR_ATTEMPTS):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            rtp.bind((host, 0))
            port = rtp.getsockname()[1]
            if port % 2 or port == 65534:
                rtp.close()
                continue
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind((host, port + 1))
            except OSError as exc:
                rtcp.close()
                rtp.close()
                if exc.errno == errno.EADDRINUSE:
                    continue
                raise
        except OSError as exc:
            rtp.close()
            raise RtspError(503, f"cannot bind UDP on {host}: {exc.strerror}") from exc
        for sock in (rtp, rtcp):
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        return rtp, rtcp
    raise RtspError(503, f"no free even/odd UDP port pair on {host}")


class UdpSink:
    """RTP/RTCP datagrams from this server's port pair to the client's."""

    kind = "udp"

    def __init__(self, host: str, client_host: str, offer: UdpOffer) -> None:
        self.offer = offer
        self.rtp_socket, self.rtcp_socket = bind_pair(host)
        self.rtp_address = (client_host, offer.client_rtp)
        self.rtcp_address = (client_host, offer.client_rtcp)
        self.closed = False

    @property
    def server_ports(self) -> tuple[int, int]:
        return self.rtp_socket.getsockname()[1], self.rtcp_socket.getsockname()[1]

    def header(self) -> str:
        return self.offer.header(*self.server_ports)

    def send(self, rtcp: bool, packet: bytes) -> bool:
        if self.closed:
            return True
        sock, address = (
            (self.rtcp_socket, self.rtcp_address) if rtcp else (self.rtp_socket, self.rtp_address)
        )
        try:
            sock.sendto(packet, address)
        except BlockingIOError:
            return False  # the send buffer is full: the client restarts at a keyframe
        except OSError:
            pass  # e.g. an ICMP error from the client's port: UDP carries on regardless
        return True

    def close(self) -> None:
        self.closed = True
        for sock in (self.rtp_socket, self.rtcp_socket):
            with contextlib.suppress(OSError):
                sock.close()
