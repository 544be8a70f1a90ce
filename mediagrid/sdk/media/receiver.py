"""The target side of a connection: listens on the endpoint and hands on what arrives.

The receiver binds the endpoint's port when the connection is made (so the URL handed to the
source's module is really listened on), counts bytes and frames as they arrive (the target's
measured bitrate), and passes the bytes to its consumers: the ffmpeg that records, decodes or
re-encodes them. Because the socket outlives any one ffmpeg run, a source that restarts, or a
consumer that restarts, simply carries on.

    receiver = Receiver(link.endpoint)
    link.endpoint = await receiver.open()     # may move to another port if it was taken
    receiver.consumers.append(process.write)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from mediagrid.sdk.entity import Endpoint
from mediagrid.sdk.errors import FailedPrecondition
from mediagrid.sdk.media import ts
from mediagrid.sdk.media.endpoints import RELAYED, Address, address_of, listening
from mediagrid.sdk.media.meter import Clock, Meter

RECEIVE_BUFFER = 4 * 1024 * 1024
MAX_BATCH = 256
"""Datagrams read in one wake-up at most (the loop's other work is not starved)."""
UDP_GRO = getattr(socket, "UDP_GRO", 104)
"""Linux (5.0+) socket option: datagrams a sender handed to its kernel in one segmented send
(as a Destination does) arrive in one read, whole packets end to end, instead of one each."""
Consumer = Callable[[bytes], None]


class Receiver:
    def __init__(self, endpoint: Endpoint, *, bind_host: str = "127.0.0.1", audio: bool = False,
                 clock: Clock | None = None, window: float = 3.0) -> None:
        self.advertised = endpoint
        """The endpoint as handed to the source (its host is the advertised one, P-17)."""
        self.bind_host = bind_host
        """The address the socket binds: the module's MEDIAGRID_BIND_HOST only (S-10)."""
        self.address = address_of(endpoint)
        if self.address.transport not in RELAYED:
            raise FailedPrecondition(
                f"transport {self.address.transport!r}: this module receives"
                f" {' or '.join(RELAYED)}; connect with one of them"
            )
        self.audio = audio
        kw = {"clock": clock} if clock is not None else {}
        self.bytes = Meter(window, **kw)
        """Bytes received (the target's measured bitrate is its rate x 8)."""
        self.frames = Meter(window, **kw)
        """Frames (PES packets) received."""
        self.consumers: list[Consumer] = []
        self._splitter = ts.PacketSplitter()
        self._closers: list[Callable[[], None]] = []
        self._peer: asyncio.StreamWriter | None = None

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint the source sends to: the advertised one, with the port listened on."""
        parts = urlsplit(self.advertised.url)
        netloc = f"{parts.netloc.rsplit(':', 1)[0]}:{self.address.port}"
        url = urlunsplit(parts._replace(netloc=netloc))
        return Endpoint(url, self.address.transport, self.advertised.format,
                        listen_url=listening(self.address, self.bind_host))

    async def open(self) -> Endpoint:
        """Binds the endpoint's port (another free one if it was taken meanwhile) and returns
        the endpoint actually listened on."""
        try:
            await self._bind(self.address.port)
        except OSError:
            await self._bind(0)
        return self.endpoint

    async def _bind(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.bind_host else socket.AF_INET
        if self.address.transport == "mpegts-udp":
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
                with contextlib.suppress(OSError):  # not Linux: one datagram per read
                    sock.setsockopt(socket.SOL_UDP, UDP_GRO, 1)
                sock.bind((self.bind_host, port))
            except OSError:
                sock.close()
                raise
            sock.setblocking(False)
            loop.add_reader(sock.fileno(), self._drain_udp, sock)
            self._closers += [lambda: loop.remove_reader(sock.fileno()), sock.close]
            bound = sock.getsockname()[1]
        else:
            server = await asyncio.start_server(
                self._serve_tcp, self.bind_host, port, family=family, reuse_address=True,
            )
            self._closers.append(server.close)
            bound = server.sockets[0].getsockname()[1]
        self.address = Address(self.address.transport, self.address.host, bound)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One sending source at a time: a new connection (a restarted source) replaces the
        old one."""
        if self._peer is not None:
            self._peer.close()
        self._peer = writer
        self._splitter = ts.PacketSplitter()  # a new stream starts on a packet boundary
        try:
            while data := await reader.read(65536):
                if self._peer is not writer:
                    break
                self.received(data)
        except ConnectionError:
            pass
        finally:
            writer.close()
            if self._peer is writer:
                self._peer = None

    def _drain_udp(self, sock: socket.socket) -> None:
        """Reads every datagram waiting (a keyframe comes as a burst of them) in one wake-up
        of the event loop, and hands them on as one write."""
        datagrams: list[bytes] = []
        recv, aligned = sock.recv, True
        for _ in range(MAX_BATCH):
            try:
                datagram = recv(65536)
            except OSError:  # nothing waiting (or an ICMP error queued on the socket)
                break
            datagrams.append(datagram)
            aligned = aligned and not len(datagram) % ts.PACKET_SIZE
        if datagrams:
            self.received(datagrams[0] if len(datagrams) == 1 else b"".join(datagrams),
                          aligned=aligned)

    def received(self, data: bytes, aligned: bool = False) -> None:
        self.bytes.add(len(data))
        if aligned and data[:1] == b"\x47":  # datagrams of whole packets
            starts = ts.frame_starts(data)
        else:
            starts = ts.frame_starts(self._splitter.whole(data))
        if starts:
            self.frames.add(starts)
        for consumer in self.consumers:
            consumer(data)

    def idle_for(self) -> float | None:
        """Seconds since data last arrived (None: never)."""
        return self.bytes.idle_for()

    def close(self) -> None:
        for close in self._closers:
            with contextlib.suppress(Exception):
                close()
        self._closers.clear()
        if self._peer is not None:
            self._peer.close()
            self._peer = None
        self.consumers.clear()
