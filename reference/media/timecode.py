"""Time-coded frames: wall-clock milliseconds drawn into video as large black/white cells.

The code is a strip of 24 x 2 square cells (16 px by default) in the top-left corner, read
row by row; each cell is black (luma 16) or white (luma 235):

    cell  0, 1    sync: white, black        (the reader also takes its threshold from them)
    cell  2..33   the time: wall-clock ms since the epoch, modulo 2**32 (49.7 days), LSB first
    cell 34..45   a 12-bit check: b0 + 2*b1 + 3*b2 + 4*b3 + 0x5A5 over the four bytes of the time
    cell 46, 47   sync: black, white

Stamping is done by ffmpeg in real time (commands.timecode_stamp): `settb=1/1000000,
setpts=time(0)/TB` sets each frame's timestamp to the wall clock as it passes the filter, a
`split` branch is cropped to the strip and redrawn by `geq` from that timestamp (the expression
is `stamp_expression()` below), overlaid back, and the timestamps restored. Reading decodes the
strip to gray (commands.timecode_reader) and thresholds the mean of each cell's inner half.
A frame whose sync cells, contrast or check do not hold reads as None, never as a wrong time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

COLUMNS = 24
ROWS = 2
CELLS = COLUMNS * ROWS
DATA_BITS = 32
CHECK_BITS = 12
DATA_FIRST = 2
CHECK_FIRST = DATA_FIRST + DATA_BITS  # 34
SYNC_HEAD = (1, 0)
SYNC_TAIL = (0, 1)
MODULUS = 1 << DATA_BITS
CHECK_SEED = 0x5A5
BLACK, WHITE = 16, 235
MIN_CONTRAST = 60.0


@dataclass(frozen=True)
class TimecodeLayout:
    """Where the strip is: cell size in pixels and its top-left corner."""

    cell: int = 16
    x: int = 0
    y: int = 0

    @property
    def width(self) -> int:
        return COLUMNS * self.cell

    @property
    def height(self) -> int:
        return ROWS * self.cell

    @property
    def frame_bytes(self) -> int:
        """Size of one gray (1 byte per pixel) strip frame."""
        return self.width * self.height

    @classmethod
    def for_frame(cls, width: int, height: int) -> TimecodeLayout:
        """The largest macroblock-aligned cell (16 or 8 px) whose strip fits the frame."""
        for cell in (16, 8):
            if COLUMNS * cell <= width and ROWS * cell <= height:
                return cls(cell=cell)
        raise ValueError(
            f"a {width}x{height} frame is too small for a time code: it needs at least "
            f"{COLUMNS * 8}x{ROWS * 8} pixels; scale the video up before stamping"
        )


def check_value(value: int) -> int:
    b = [(value >> shift) & 0xFF for shift in (0, 8, 16, 24)]
    return (b[0] + 2 * b[1] + 3 * b[2] + 4 * b[3] + CHECK_SEED) % (1 << CHECK_BITS)


def encode_bits(value: int) -> list[int]:
    """The 48 cell values (0/1) that stand for `value` (taken modulo 2**32)."""
    value %= MODULUS
    check = check_value(value)
    data = [(value >> i) & 1 for i in range(DATA_BITS)]
    checks = [(check >> i) & 1 for i in range(CHECK_BITS)]
    return [*SYNC_HEAD, *data, *checks, *SYNC_TAIL]


def decode_bits(bits: Sequence[int]) -> int | None:
    """The value the 48 cells encode, or None when sync or check fail."""
    if len(bits) != CELLS or tuple(bits[:2]) != SYNC_HEAD or tuple(bits[-2:]) != SYNC_TAIL:
        return None
    value = sum(bit << i for i, bit in enumerate(bits[DATA_FIRST:CHECK_FIRST]))
    check = sum(bit << i for i, bit in enumerate(bits[CHECK_FIRST : CHECK_FIRST + CHECK_BITS]))
    return value if check == check_value(value) else None


def cell_means(strip: bytes, layout: TimecodeLayout) -> list[float]:
    """Mean luma of the inner half of each cell of a gray strip frame (row-major bytes)."""
    if len(strip) != layout.frame_bytes:
        raise ValueError(
            f"a strip frame is {layout.frame_bytes} bytes for cell size {layout.cell}, "
            f"got {len(strip)}: decode with commands.timecode_reader using the same layout"
        )
    c, w = layout.cell, layout.width
    lo, hi = c // 4, c - c // 4
    means = []
    for index in range(CELLS):
        top, left = (index // COLUMNS) * c, (index % COLUMNS) * c
        rows = range(top + lo, top + hi)
        total = sum(sum(strip[r * w + left + lo : r * w + left + hi]) for r in rows)
        means.append(total / ((hi - lo) * (hi - lo)))
    return means


def decode_strip(strip: bytes, layout: TimecodeLayout) -> int | None:
    """The time code (ms modulo 2**32) of one gray strip frame, or None if unreadable."""
    means = cell_means(strip, layout)
    white = (means[0] + means[-1]) / 2
    black = (means[1] + means[-2]) / 2
    if white - black < MIN_CONTRAST:
        return None
    threshold = (white + black) / 2
    return decode_bits([1 if m > threshold else 0 for m in means])


def delta_ms(later: int, earlier: int) -> int:
    """later - earlier in ms, across the 2**32 wrap (valid for gaps under 24.8 days)."""
    return (later - earlier + MODULUS // 2) % MODULUS - MODULUS // 2


def now_code(epoch_ms: int) -> int:
    """The time code of a wall-clock time in ms since the epoch."""
    return epoch_ms % MODULUS


def stamp_expression(layout: TimecodeLayout) -> str:
    """The geq luma expression drawing the strip from the frame time T (wall clock, s).

    ld(0) is the cell index, ld(1) the ms value; the sum of weighted bytes stays below 4096.
    """
    c = layout.cell
    value = "ld(1)"
    byte = [f"mod(floor({value}/{1 << s}),256)" for s in (0, 8, 16, 24)]
    check = f"({byte[0]}+2*{byte[1]}+3*{byte[2]}+4*{byte[3]}+{CHECK_SEED})"
    bit = (
        f"if(lt(ld(0),{DATA_FIRST}),eq(ld(0),0),"
        f"if(lt(ld(0),{CHECK_FIRST}),mod(floor({value}/pow(2,ld(0)-{DATA_FIRST})),2),"
        f"if(lt(ld(0),{CHECK_FIRST + CHECK_BITS}),"
        f"mod(floor({check}/pow(2,ld(0)-{CHECK_FIRST})),2),"
        f"eq(ld(0),{CELLS - 1}))))"
    )
    return (
        f"st(0,floor(Y/{c})*{COLUMNS}+floor(X/{c}));"
        f"st(1,mod(floor(T*1000),{MODULUS}));"
        f"{BLACK}+{WHITE - BLACK}*{bit}"
    )


def stamp_filter(layout: TimecodeLayout, restore_pts: str = "N/FRAME_RATE/TB") -> str:
    """The stamping as one `-vf` filter graph (one input, one output), for a program that
    takes a filter string, like `mediagrid camera --vf` (commands.timecode_stamp builds the
    same graph for a whole ffmpeg command)."""
    strip = f"crop={layout.width}:{layout.height}:{layout.x}:{layout.y}"
    return (
        "format=yuv420p,settb=1/1000000,setpts=time(0)/TB,split[tc_a][tc_b];"
        f"[tc_b]{strip},geq=lum='{stamp_expression(layout)}':cb=128:cr=128[tc_s];"
        f"[tc_a][tc_s]overlay={layout.x}:{layout.y},setpts={restore_pts}"
    )


async def read_codes(
    stream: asyncio.StreamReader, layout: TimecodeLayout
) -> AsyncIterator[int | None]:
    """Yields the code of each strip frame read from a rawvideo gray pipe until EOF."""
    while True:
        try:
            strip = await stream.readexactly(layout.frame_bytes)
        except asyncio.IncompleteReadError:
            return
        yield decode_strip(strip, layout)
