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


def frame_starts(data: bytes) -> int:
    """PES starts (frames) in packet-aligned data, e.g. one datagram of whole packets."""
    count = 0
    for offset in range(0, len(data) - PACKET_SIZE + 1, PACKET_SIZE):
        if data[offset + 1] & 0x40 and pes_start(data[offset : offset + PACKET_SIZE]):
            count += 1
    return count


class PacketSplitter:
    """Cuts a byte stream into 188-byte packets, resynchronising on the sync byte."""

    def __init__(self) -> None:
        self._pending = b""
        self.skipped = 0
        """Bytes thrown away while looking for the sync byte."""

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

    def apply(self, packet: bytes) -> bytes:
        pid = pid_of(packet)
        if pid == NULL_PID:
            return packet
        has_payload = (packet[3] >> 4) & 0x1
        if not has_payload and pid not in self._next:
            return packet
        expected = self._next.get(pid, packet[3] & 0x0F)
        counter = expected if has_payload else (expected - 1) % 16
        if has_payload:
            self._next[pid] = (expected + 1) % 16
        if counter == packet[3] & 0x0F:
            return packet
        out = bytearray(packet)
        out[3] = (out[3] & 0xF0) | counter
        return bytes(out)
