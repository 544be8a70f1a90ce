"""One connection's output: packets from a feed to the target's endpoint.

A destination starts a target at a keyframe (with the latest PAT and PMT in front), so a
target that joins a running source decodes from its first frame. `switch_to(feed)` moves it to
another encoder's feed (AdjustQuality, rule P-9): the new feed is held back until its first
keyframe, then the old one is cut at its next frame boundary and the new one follows, so the
target sees whole frames and no gap. Continuity counters are rewritten so the target sees one
continuous stream across switches and encoder restarts.

MPEG-TS over UDP goes out as datagrams of up to 7 packets (1316 bytes), handed to the kernel
many at a time where it cuts them itself (Linux UDP segmentation offload: one system call per
read of the encoder's output, not one per datagram); over TCP the destination connects to the
listening target and reconnects with the project's backoff.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time

from mediagrid.backoff import Backoff, BackoffPolicy
from mediagrid.sdk.media import ts
from mediagrid.sdk.media.endpoints import Address
from mediagrid.sdk.media.feed import Chunk, Feed
from mediagrid.sdk.media.meter import Clock, Meter

log = logging.getLogger(__name__)

RECONNECT = BackoffPolicy(initial=0.05, multiplier=2.0, max=2.0, jitter=0.2)
"""Reconnecting to a listening TCP target (the project's one backoff)."""
SWITCH_IDLE = 0.3
"""A switch waits for the old feed's next frame boundary, unless it has been silent this long."""
MAX_HELD = 8 * 1024 * 1024
"""Bytes of the new feed held back during a switch before it is forced."""
MAX_QUEUED = 4 * 1024 * 1024
"""Bytes queued on a slow TCP target before packets are dropped (then it restarts at a keyframe)."""

DATAGRAM = ts.PACKET_SIZE * ts.PACKETS_PER_DATAGRAM
UDP_SEGMENT = getattr(socket, "UDP_SEGMENT", 103)
"""Linux (4.18+) socket option: one send of many datagrams' bytes, cut by the kernel."""
SEGMENTED_DATAGRAMS = 49
"""Datagrams per segmented send (49 x 1316 bytes fits one UDP payload of 64 KiB)."""


class Destination:
    def __init__(self, address: Address, *, audio: bool = False, clock: Clock = time.monotonic,
                 window: float = 3.0) -> None:
        self.address = address
        self.audio = audio
        self.bytes = Meter(window, clock=clock)
        """Bytes sent to the target (its measured bitrate is the rate x 8)."""
        self.frames = Meter(window, clock=clock)
        """Frames (PES packets) sent to the target."""
        self.dropped = 0
        """Packets dropped because a TCP target could not take them."""
        self.switches = 0
        self.feed: Feed | None = None
        self._next: Feed | None = None
        self._held: list[bytes] = []  # pieces of the new feed, from its first keyframe
        self._held_bytes = self._held_frames = 0
        self._started = False  # the current feed has reached a keyframe for this target
        self._continuity = ts.ContinuityCounter()
        self._clock = clock
        self._udp: socket.socket | None = None
        self._segmented = False  # the kernel cuts our sends into datagrams (UDP_SEGMENT)
        self._unreachable = False  # the last send failed for want of a route (warned once)
        self._tcp: asyncio.StreamWriter | None = None
        self._connector: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    async def open(self) -> None:
        if self.address.transport == "mpegts-udp":
            sock = socket.socket(self.address.family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            try:
                sock.setsockopt(socket.SOL_UDP, UDP_SEGMENT, DATAGRAM)
                self._segmented = True
            except OSError:  # not Linux, or too old: one send per datagram
                self._segmented = False
            self._udp = sock
        else:
            self._connector = asyncio.get_running_loop().create_task(self._connect_tcp())

    def close(self) -> None:
        self.detach()
        if self._connector is not None:
            self._connector.cancel()
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    # -- feeds ---------------------------------------------------------------------------------
    def attach(self, feed: Feed) -> None:
        """Starts sending `feed` (from its next keyframe); a no-op when already on it."""
        if self.feed is None:
            self.feed, self._started = feed, False
            feed.subscribers.append(self._from_feed)
        elif feed is not self.feed:
            self.switch_to(feed)

    def switch_to(self, feed: Feed) -> None:
        """Moves to `feed` at its first keyframe, cutting the current feed between frames."""
        if feed is self.feed:
            self._drop_next()
            return
        self._drop_next()
        self._next = feed
        feed.subscribers.append(self._from_feed)

    def detach(self) -> None:
        for feed in (self.feed, self._next):
            if feed is not None and self._from_feed in feed.subscribers:
                feed.subscribers.remove(self._from_feed)
        self.feed = self._next = None
        self._held, self._held_bytes, self._held_frames = [], 0, 0

    @property
    def switching(self) -> bool:
        return self._next is not None

    @property
    def pending_feed(self) -> Feed | None:
        """The feed a switch is waiting to move to."""
        return self._next

    def _drop_next(self) -> None:
        if self._next is not None and self._from_feed in self._next.subscribers:
            self._next.subscribers.remove(self._from_feed)
        self._next = None
        self._held, self._held_bytes, self._held_frames = [], 0, 0

    def _from_feed(self, feed: Feed, chunk: Chunk) -> None:
        if feed is self._next:
            self._hold(feed, chunk)
            return
        data = chunk.data
        if self._next is not None and self._held:
            # the switch: at once if nothing was sent yet, else at the old feed's next frame
            cut = 0 if not self._started else chunk.first(keyframe=False)
            if cut is not None:
                self._send([data[:cut], *self._cut()] if cut else self._cut())
                return  # the rest of the old feed's packets are not sent
        if self._started:
            self.frames.add(chunk.frames)
            self._send([data])
            return
        start = chunk.first(keyframe=True)
        if start is None:
            return
        self._started = True
        self.frames.add(chunk.frames_from(start))
        self._send([b"".join(feed.tables()), data[start:]])

    def _hold(self, feed: Feed, chunk: Chunk) -> None:
        """Keeps the new feed's packets from its first keyframe until the cut."""
        if self._held:
            self._held.append(chunk.data)
            self._held_bytes += len(chunk.data)
            self._held_frames += chunk.frames
        else:
            start = chunk.first(keyframe=True)
            if start is None:
                return
            self._held = [b"".join(feed.tables()), chunk.data[start:]]
            self._held_bytes = sum(map(len, self._held))
            self._held_frames = chunk.frames_from(start)
        old_idle = self.feed.idle_for() if self.feed is not None else None
        if old_idle is None or old_idle > SWITCH_IDLE or self._held_bytes > MAX_HELD:
            self._send(self._cut())

    def _cut(self) -> list[bytes]:
        """The switch itself: the old feed is dropped, the held packets go out."""
        assert self._next is not None
        old, held = self.feed, self._held
        if old is not None and self._from_feed in old.subscribers:
            old.subscribers.remove(self._from_feed)
        self.feed, self._next, self._started = self._next, None, True
        self.frames.add(self._held_frames)
        self._held, self._held_bytes, self._held_frames = [], 0, 0
        self.switches += 1
        return held

    # -- sending -------------------------------------------------------------------------------
    def _send(self, pieces: list[bytes]) -> None:
        """Sends pieces of whole packets, each what one muxer wrote in one go."""
        data = b"".join([self._continuity.rewrite(p) for p in pieces if p])
        if not data:
            return
        if self._udp is not None:
            self._send_udp(data)
        elif self._tcp is not None and not self._tcp.is_closing():
            if self._tcp.transport.get_write_buffer_size() > MAX_QUEUED:
                self.dropped += len(data) // ts.PACKET_SIZE
                self._started = False  # resume at a keyframe once it drains
                return
            self._tcp.write(data)
            self.bytes.add(len(data))
        else:
            self.dropped += len(data) // ts.PACKET_SIZE
            self._started = False

    def _send_udp(self, data: bytes) -> None:
        """Datagrams of DATAGRAM bytes (the last may be shorter), many per send when the
        kernel cuts them; a send the socket cannot take now, or to a target it has no route
        to, is dropped and counted."""
        assert self._udp is not None
        target = (self.address.host, self.address.port)
        step = DATAGRAM * SEGMENTED_DATAGRAMS if self._segmented else DATAGRAM
        sent = 0
        for first in range(0, len(data), step):
            piece = data[first : first + step]
            try:
                self._udp.sendto(piece, target)
            except (BlockingIOError, ConnectionRefusedError):
                self.dropped += len(piece) // ts.PACKET_SIZE
                continue
            except OSError as error:
                if not self._segmented:
                    # no route to the target (ENETUNREACH, EACCES...): dropped and counted,
                    # not raised into the feed, whose other targets would miss the chunk
                    self.dropped += len(piece) // ts.PACKET_SIZE
                    if not self._unreachable:
                        log.warning("cannot send to %s:%s: %s (dropping until it can)",
                                    self.address.host, self.address.port, error)
                    self._unreachable = True
                    continue
                # a route whose device cannot take segmented sends (EIO): one by one from now
                self._udp.setsockopt(socket.SOL_UDP, UDP_SEGMENT, 0)
                self._segmented = False
                self._send_udp(data[first:])
                break
            sent += len(piece)
            self._unreachable = False
        if sent:
            self.bytes.add(sent)

    async def _connect_tcp(self) -> None:
        backoff = Backoff(RECONNECT)
        while True:
            try:
                reader, writer = await asyncio.open_connection(
                    self.address.host, self.address.port
                )
            except OSError:
                await asyncio.sleep(backoff.next_delay())
                continue
            backoff.reset()
            self._tcp, self._started = writer, False
            try:
                while await reader.read(4096):  # the target sends nothing; EOF: it went away
                    pass
            except ConnectionError:
                pass
            finally:
                self._tcp = None
                writer.close()
