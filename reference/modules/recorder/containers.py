"""Whether a recording holds any media, read from its container's structure.

A recorder run that fails before it muxes a packet (a stream the container cannot take, a
muxer that refuses the first packet) leaves a file with a header and nothing else, or an
empty file. Such a file is the recorder's own and holds nothing anyone could play, so the
next run takes its name again instead of the next free one (no spray of empty files while a
failure persists). Anything this module cannot read is taken as holding media: a file is only
ever removed when it plainly holds none.

    holds_media("door.mp4", "mp4")    # a `moof` or a non-empty `mdat` box: True
    holds_media("door.mkv", "mkv")    # a Cluster in the Segment: True
"""

from __future__ import annotations

from typing import BinaryIO

MKV_SEGMENT, MKV_CLUSTER = 0x18538067, 0x1F43B675
MAX_ELEMENTS = 10_000
"""Boxes or elements read at most before answering (a header has a handful)."""


def holds_media(path: str, container: str) -> bool:
    try:
        with open(path, "rb") as f:
            return _mp4_media(f) if container == "mp4" else _mkv_media(f)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # unreadable: not ours to judge


def _mp4_media(f: BinaryIO) -> bool:
    """Fragmented MP4: media lives in `moof`+`mdat` pairs (or a plain `mdat`)."""
    position = 0
    for _ in range(MAX_ELEMENTS):
        f.seek(position)
        head = f.read(16)
        if len(head) < 8:
            return False  # the end of the file: no media box met
        size, kind, header = int.from_bytes(head[:4], "big"), head[4:8], 8
        if size == 1:  # a 64-bit size follows
            if len(head) < 16:
                return True
            size, header = int.from_bytes(head[8:16], "big"), 16
        if kind == b"moof":
            return True
        if kind == b"mdat":
            return size == 0 or size > header  # size 0: to the end of the file
        if size == 0 or size < header:
            return True  # a box to the end, or a broken size: keep the file
        position += size
    return True


def _vint(f: BinaryIO, keep_marker: bool) -> tuple[int, bool] | None:
    """An EBML variable-length integer: (value, all value bits set), None at the end."""
    first = f.read(1)
    if not first:
        return None
    length = 1
    while length <= 8 and not first[0] & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        raise ValueError("not EBML")
    rest = f.read(length - 1)
    if len(rest) < length - 1:
        return None
    value = first[0] if keep_marker else first[0] & (0xFF >> length)
    for byte in rest:
        value = value << 8 | byte
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, unknown


def _mkv_media(f: BinaryIO) -> bool:
    """Matroska: media lives in Clusters, children of the Segment."""
    try:
        for _ in range(MAX_ELEMENTS):
            element, size = _vint(f, keep_marker=True), _vint(f, keep_marker=False)
            if element is None or size is None:
                return False  # the end of the file: no Cluster met
            if element[0] == MKV_CLUSTER:
                return True
            if element[0] == MKV_SEGMENT:
                continue  # its children follow
            if size[1]:
                return True  # an element of unknown size that is not a Cluster: keep
            f.seek(size[0], 1)
        return True
    except ValueError:
        return True
