"""MPEG-TS, as much as relaying needs: packets, their PID, where frames and keyframes start.

A connection carries MPEG-TS with one elementary stream (docs/contract.md §4.1). ffmpeg's
muxer writes one PES per video frame and sets the random-access indicator on keyframes (and
on every audio PES), and repeats the PAT and the PMT a few times a second. That is all the
sender needs to start a target at a keyframe and to switch encoders between two frames.

    splitter = PacketSplitter()
    for packet in splitter.feed(chunk):     # whole 188-byte packets, across chunk borders
        info = inspect(packet)
"""

from __future__ import annotations

from dataclasses import dataclass

PACKET_SIZE = 188
SYNC_BYTE = 0x47
PAT_PID = 0x0000
NULL_PID = 0x1FFF
PACKETS_PER_DATAGRAM = 7  # 1316 bytes: contract §4.1's pkt_size
PES_START = b"\x00\x00\x01"


def pid_of(packet: bytes) -> int:
    return ((packet[1] & 0x1F) << 8) | packet[2]


def unit_start(packet: bytes) -> bool:
    """payload_unit_start_indicator: a PES (a frame) or a table section starts here."""
    return bool(packet[1] & 0x40)


def _payload_offset(packet: bytes) -> int | None:
    control = (packet[3] >> 4) & 0x3
    if not control & 0x1:
        return None  # adaptation field only
    if control & 0x2:
        return 5 + packet[4]
    return 4


def random_access(packet: bytes) -> bool:
    """The adaptation field's random_access_indicator (ffmpeg sets it on keyframes)."""
    return bool((packet[3] >> 4) & 0x2 and packet[4] > 0 and packet[5] & 0x40)


def pes_start(packet: bytes) -> bool:
    """True when a PES packet (one frame of the elementary stream) starts in this packet."""
    if not unit_start(packet):
        return False
    offset = _payload_offset(packet)
    return offset is not None and packet[offset : offset + 3] == PES_START


def pmt_pids(pat: bytes) -> set[int]:
    """The PMT PIDs a PAT packet lists (empty when it is not a readable PAT)."""
    offset = _payload_offset(pat)
    if offset is None or not unit_start(pat):
        return set()
    offset += 1 + pat[offset]  # pointer_field
    if offset + 8 > PACKET_SIZE:
        return set()
    length = ((pat[offset + 1] & 0x0F) << 8) | pat[offset + 2]
    end = min(offset + 3 + length - 4, PACKET_SIZE)  # without the CRC
    pids = set()
    for entry in range(offset + 8, end - 3, 4):
        program = (pat[entry] << 8) | pat[entry + 1]
        if program != 0:
            pids.add(((pat[entry + 2] & 0x1F) << 8) | pat[entry + 3])
    return pids


@dataclass(frozen=True)
class PacketInfo:
    pid: int
    frame_start: bool
    """A PES starts here: a new frame (video) or a new group of audio frames."""
    keyframe: bool
    """A frame a decoder can start at: a video keyframe, or any audio PES."""


PLAIN = PacketInfo(-1, False, False)
"""What most packets are: the middle of a frame (no unit starts in them; PID not needed)."""


def inspect(packet: bytes, audio: bool = False) -> PacketInfo:
    if not packet[1] & 0x40:
        return PLAIN  # no table or frame starts here: nothing more to look at
    start = pes_start(packet)
    return PacketInfo(pid_of(packet), start, start and (audio or random_access(packet)))


_UNIT_START = bytes(1 if b & 0x40 else 0 for b in range(256))
_PID_HIGH = bytes(b & 0x1F for b in range(256))
_COUNTER_PLUS = [bytes((b & 0xF0) | ((b + n) & 0x0F) for b in range(256)) for n in range(16)]


def unit_starts(data: bytes) -> list[int]:
    """Byte offsets of the packets where a PES or a table section starts, in packet-aligned
    data. Found on a column of one byte per packet (`data[1::188]`), so the cost of a chunk
    is a few C calls plus a Python step per unit start (a frame, a table), not per packet."""
    flags = data[1::PACKET_SIZE].translate(_UNIT_START)
    offsets = []
    index = flags.find(1)
    while index >= 0:
        offsets.append(index * PACKET_SIZE)
        index = flags.find(1, index + 1)
    return offsets


def frame_starts(data: bytes) -> int:
    """PES starts (frames) in packet-aligned data, e.g. one datagram of whole packets."""
    return sum(1 for o in unit_starts(data) if pes_start(data[o : o + PACKET_SIZE]))


class PacketSplitter:
    """Cuts a byte stream into 188-byte packets, resynchronising on the sync byte."""

    def __init__(self) -> None:
        self._pending = b""
        self.skipped = 0
        """Bytes thrown away while looking for the sync byte."""

    def whole(self, data: bytes) -> bytes:
        """The whole packets of what has come so far, as one byte string; the rest of a packet
        waits for the next call. A stream on packet boundaries (the usual case) costs a slice
        and a count whatever its length; one off them is resynchronised packet by packet."""
        buffer = self._pending + data if self._pending else data
        end = len(buffer) - len(buffer) % PACKET_SIZE
        if buffer[0:end:PACKET_SIZE].count(SYNC_BYTE) == end // PACKET_SIZE:
            self._pending = buffer[end:]
            return buffer if end == len(buffer) else buffer[:end]
        self._pending = b""
        return b"".join(self.feed(buffer))

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._pending + data
        packets = []
        position = 0
        while len(buffer) - position >= PACKET_SIZE:
            if buffer[position] != SYNC_BYTE:
                found = buffer.find(bytes([SYNC_BYTE]), position + 1)
                end = len(buffer) if found < 0 else found
                self.skipped += end - position
                position = end
                continue
            packets.append(buffer[position : position + PACKET_SIZE])
            position += PACKET_SIZE
        self._pending = buffer[position:]
        return packets


class ContinuityCounter:
    """Rewrites each packet's continuity counter so a destination's stream stays continuous
    when it switches from one encoder to another (or an encoder restarts): a receiver then
    sees one stream, not a loss."""

    def __init__(self) -> None:
        self._next: dict[int, int] = {}
        self._last_in: dict[int, int] = {}  # per PID: the counter its last packet came with
        self._shift: dict[int, int] = {}  # per PID: what was added to that counter

    def apply(self, packet: bytes) -> bytes:
        pid = pid_of(packet)
        if pid == NULL_PID:
            return packet
        has_payload = (packet[3] >> 4) & 0x1
        if not has_payload and pid not in self._next:
            return packet
        came = packet[3] & 0x0F
        expected = self._next.get(pid, came)
        counter = expected if has_payload else (expected - 1) % 16
        if has_payload:
            self._next[pid] = (expected + 1) % 16
        self._last_in[pid], self._shift[pid] = came, (counter - came) % 16
        if counter == came:
            return packet
        out = bytearray(packet)
        out[3] = (out[3] & 0xF0) | counter
        return bytes(out)

    def rewrite(self, data: bytes) -> bytes:
        """`apply` over packet-aligned data that one muxer wrote in one go (its counters run
        on unbroken inside it), with the same result, and without a Python step per packet:
        the elementary stream's packets (all but its tables, in a stream of one) get their
        counters shifted as one column; the tables, and any data not of that shape, go
        through `apply` one by one. Where the data does not follow on from the last call
        (an encoder switched or restarted, packets skipped) the shift is worked out anew."""
        count = len(data) // PACKET_SIZE
        tables: dict[int, bytes] = {}  # packet index -> a packet with a table section
        pid = None
        for offset in unit_starts(data):
            packet = data[offset : offset + PACKET_SIZE]
            if pes_start(packet):
                pid = pid_of(packet) if pid is None else pid
            else:
                tables[offset // PACKET_SIZE] = packet
        if len(tables) == count:  # tables only (or nothing)
            return self._one_by_one(data)
        first, last = 0, count - 1
        while first in tables:
            first += 1
        while last in tables:
            last -= 1
        pid = pid_of(data[first * PACKET_SIZE : (first + 1) * PACKET_SIZE]) if pid is None \
            else pid
        high, low = bytearray([pid >> 8]) * count, bytearray([pid & 0xFF]) * count
        for index, packet in tables.items():
            high[index], low[index] = packet[1] & 0x1F, packet[2]
        if pid == NULL_PID or data[1::PACKET_SIZE].translate(_PID_HIGH) != high or \
                data[2::PACKET_SIZE] != low:
            return self._one_by_one(data)  # more than one stream, or null packets
        shift = self._shift_for(pid, data[first * PACKET_SIZE + 3])
        out = None
        if shift:
            out = bytearray(data)
            out[3::PACKET_SIZE] = data[3::PACKET_SIZE].translate(_COUNTER_PLUS[shift])
        for index, packet in tables.items():
            fixed = self.apply(packet)
            if fixed is not packet or out is not None:
                out = bytearray(data) if out is None else out
                out[index * PACKET_SIZE : (index + 1) * PACKET_SIZE] = fixed
        came = data[last * PACKET_SIZE + 3] & 0x0F
        self._last_in[pid], self._shift[pid] = came, shift
        self._next[pid] = (came + shift + 1) % 16
        return data if out is None else bytes(out)

    def _shift_for(self, pid: int, flags: int) -> int:
        """What to add to the counters of `pid`'s packets from one whose 4th byte is `flags`."""
        came, has_payload = flags & 0x0F, flags & 0x10
        last = self._last_in.get(pid)
        if last is not None and came == ((last + 1) % 16 if has_payload else last):
            return self._shift[pid]  # it follows on from the last packet
        if pid not in self._next:
            return 0
        expected = self._next[pid] if has_payload else self._next[pid] - 1
        return (expected - came) % 16

    def _one_by_one(self, data: bytes) -> bytes:
        packets = [data[o : o + PACKET_SIZE] for o in range(0, len(data), PACKET_SIZE)]
        fixed = [self.apply(p) for p in packets]
        return data if all(a is b for a, b in zip(fixed, packets, strict=True)) \
            else b"".join(fixed)
