"""Decoded frames as the display gets them, and the time code read from them.

ffmpeg writes each decoded frame as a binary PPM (`-f image2pipe -c:v ppm`): a short header
`P6\\n<width> <height>\\n255\\n` and the RGB pixels, so the size travels with every frame and
may change mid-stream (AdjustQuality to another resolution).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from mediagrid.reference.media.timecode import COLUMNS, ROWS, TimecodeLayout, decode_strip

CELL_SIZES = (16, 8, 12, 24, 32, 4, 6, 10, 20)
"""Cell sizes tried: the stamp's own (16 or 8 px) and what scaling usually makes of it."""
RETRY_EVERY = 25
"""A stream without a readable code is looked at again every this many frames."""


@dataclass(frozen=True)
class Frame:
    width: int
    height: int
    rgb: bytes


async def read_frame(stream: asyncio.StreamReader) -> Frame | None:
    """The next PPM frame, or None at the end of the stream."""
    try:
        magic = await stream.readuntil(b"\n")
        if magic.strip() != b"P6":
            raise ValueError(f"not a PPM frame: {magic[:20]!r}")
        width, height = (int(v) for v in (await stream.readuntil(b"\n")).split())
        await stream.readuntil(b"\n")  # maxval, 255
        return Frame(width, height, await stream.readexactly(width * height * 3))
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None


def strip_of(frame: Frame, cell: int) -> bytes | None:
    """The time-code strip (green channel) for cells of `cell` px, if the frame is big enough."""
    width, height = COLUMNS * cell, ROWS * cell
    if width > frame.width or height > frame.height:
        return None
    row = frame.width * 3
    return b"".join(frame.rgb[r * row + 1 : r * row + width * 3 : 3] for r in range(height))


class TimecodeReader:
    """Reads the wall-clock code of reference/media's stamp from RGB frames, trying the cell
    sizes scaling may have made of it, and remembering the one that worked."""

    def __init__(self) -> None:
        self.cell: int | None = None
        self._misses = 0

    def read(self, frame: Frame) -> int | None:
        if self.cell is not None:
            code = self._try(frame, self.cell)
            if code is not None:
                return code
            self.cell = None
        self._misses += 1
        if self._misses % RETRY_EVERY != 1:
            return None
        for cell in CELL_SIZES:
            code = self._try(frame, cell)
            if code is not None:
                self.cell, self._misses = cell, 0
                return code
        return None

    @staticmethod
    def _try(frame: Frame, cell: int) -> int | None:
        strip = strip_of(frame, cell)
        return None if strip is None else decode_strip(strip, TimecodeLayout(cell=cell))
