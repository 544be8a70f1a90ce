"""A feed: the MPEG-TS one media process writes on its stdout, a chunk at a time.

The feed keeps the latest PAT and PMT (so a destination that joins mid-stream can start with
them at the next keyframe) and counts frames (PES packets) as they leave the encoder. Each
destination subscribed to the feed gets every chunk of whole packets as it was read, with the
packets where a frame or a table starts marked (`Chunk.marks`): only those are looked at, so
relaying costs a few steps per read and per frame, not per packet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mediagrid.sdk.media import ts
from mediagrid.sdk.media.meter import Clock, Meter


@dataclass(frozen=True, slots=True)
class Chunk:
    """Whole packets the process wrote, as one read brought them."""

    data: bytes
    marks: list[tuple[int, ts.PacketInfo]]
    """(byte offset, what starts there) of each packet where a PES or a table starts."""
    frames: int
    """PES starts in it: frames of the elementary stream."""

    def first(self, keyframe: bool) -> int | None:
        """Offset of the first packet where a frame (a keyframe) starts, None without one."""
        for offset, info in self.marks:
            if info.keyframe if keyframe else info.frame_start:
                return offset
        return None

    def frames_from(self, offset: int) -> int:
        return sum(1 for at, info in self.marks if at >= offset and info.frame_start)

    def __iter__(self) -> Iterator[tuple[bytes, ts.PacketInfo]]:
        """Packet by packet, each with what `ts.inspect` says of it (the slow view, for a
        subscriber that wants it)."""
        marks = dict(self.marks)
        for offset in range(0, len(self.data), ts.PACKET_SIZE):
            yield self.data[offset : offset + ts.PACKET_SIZE], marks.get(offset, ts.PLAIN)


Subscriber = Callable[["Feed", Chunk], None]


class Feed:
    def __init__(self, name: str = "", *, audio: bool = False, clock: Clock = time.monotonic,
                 window: float = 3.0) -> None:
        self.name = name
        self.audio = audio
        self.frames = Meter(window, clock=clock)
        """Frames (PES packets) written by the process, across its runs."""
        self.subscribers: list[Subscriber] = []
        self._clock = clock
        self._splitter = ts.PacketSplitter()
        self._pmt_pids: set[int] = set()
        self._pat: bytes | None = None
        self._pmt: bytes | None = None
        self.last_packet_at: float | None = None

    def restarted(self) -> None:
        """A new run of the process begins: its stream starts afresh on a packet boundary."""
        self._splitter = ts.PacketSplitter()
        self._pat = self._pmt = None
        self._pmt_pids = set()

    def tables(self) -> list[bytes]:
        """The latest PAT and PMT, to send before a keyframe to a destination that joins."""
        return [p for p in (self._pat, self._pmt) if p is not None]

    def push(self, data: bytes) -> None:
        """Bytes read from the process's stdout."""
        whole = self._splitter.whole(data)
        if not whole:
            return
        marks = []
        frames = 0
        for offset in ts.unit_starts(whole):
            packet = whole[offset : offset + ts.PACKET_SIZE]
            info = ts.inspect(packet, self.audio)
            if info.pid == ts.PAT_PID:
                self._pat = packet
                self._pmt_pids = ts.pmt_pids(packet) or self._pmt_pids
            elif info.pid in self._pmt_pids:
                self._pmt = packet
            elif info.frame_start:
                frames += 1
            marks.append((offset, info))
        if frames:
            self.frames.add(frames)
        self.last_packet_at = self._clock()
        chunk = Chunk(whole, marks, frames)
        for subscriber in list(self.subscribers):
            subscriber(self, chunk)

    def idle_for(self) -> float | None:
        return None if self.last_packet_at is None else self._clock() - self.last_packet_at
