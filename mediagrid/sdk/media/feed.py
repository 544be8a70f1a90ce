"""A feed: the MPEG-TS one media process writes on its stdout, packet by packet.

The feed keeps the latest PAT and PMT (so a destination that joins mid-stream can start with
them at the next keyframe) and counts frames (PES packets) as they leave the encoder. Each
destination subscribed to the feed gets every packet with what `ts.inspect` says about it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mediagrid.sdk.media import ts
from mediagrid.sdk.media.meter import Clock, Meter

Subscriber = Callable[["Feed", list[tuple[bytes, ts.PacketInfo]]], None]


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
        items = []
        for packet in self._splitter.feed(data):
            info = ts.inspect(packet, self.audio)
            if info is ts.PLAIN:
                pass
            elif info.pid == ts.PAT_PID:
                self._pat = packet
                self._pmt_pids = ts.pmt_pids(packet) or self._pmt_pids
            elif info.pid in self._pmt_pids:
                self._pmt = packet
            elif info.frame_start:
                self.frames.add()
            items.append((packet, info))
        if not items:
            return
        self.last_packet_at = self._clock()
        for subscriber in list(self.subscribers):
            subscriber(self, items)

    def idle_for(self) -> float | None:
        return None if self.last_packet_at is None else self._clock() - self.last_packet_at
