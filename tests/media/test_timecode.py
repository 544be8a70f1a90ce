"""Time codes: the bit layout, then stamping by ffmpeg and reading back after H.264 and VP8."""

from __future__ import annotations

import itertools
import subprocess
import time
from pathlib import Path

import pytest

from mediagrid.reference.media import timecode as tc
from mediagrid.reference.media.commands import Input, Output, timecode_reader, timecode_stamp
from tests.media.helpers import FFMPEG
from tests.support import ffprobe_json

FRAME_MS = 40  # 25 fps


def strip_of(bits: list[int], layout: tc.TimecodeLayout) -> bytes:
    """A gray strip frame drawn in Python, as the reader would get it lossless."""
    rows = []
    for y in range(layout.height):
        row = bytearray()
        for x in range(layout.width):
            cell = (y // layout.cell) * tc.COLUMNS + x // layout.cell
            row.append(tc.WHITE if bits[cell] else tc.BLACK)
        rows.append(bytes(row))
    return b"".join(rows)


@pytest.mark.parametrize("value", [0, 1, 0x5A5A5A5A, 2**32 - 1, 1_764_000_000_123])
def test_bits_round_trip(value: int) -> None:
    layout = tc.TimecodeLayout(cell=8)
    assert tc.decode_strip(strip_of(tc.encode_bits(value), layout), layout) == value % 2**32


def test_a_flipped_bit_or_a_blank_frame_reads_as_none_not_a_wrong_time() -> None:
    layout = tc.TimecodeLayout(cell=8)
    for cell in range(tc.CELLS):
        bits = tc.encode_bits(123_456_789)
        bits[cell] ^= 1
        assert tc.decode_strip(strip_of(bits, layout), layout) is None, cell
    assert tc.decode_strip(bytes(layout.frame_bytes), layout) is None


def test_differences_cross_the_wrap() -> None:
    assert tc.delta_ms(5, 2**32 - 5) == 10
    assert tc.delta_ms(2**32 - 5, 5) == -10


def test_layout_fits_the_frame_or_says_how() -> None:
    assert tc.TimecodeLayout.for_frame(640, 360).cell == 16
    assert tc.TimecodeLayout.for_frame(320, 240).cell == 8
    with pytest.raises(ValueError, match="too small"):
        tc.TimecodeLayout.for_frame(160, 120)


def read_codes(path: Path, layout: tc.TimecodeLayout) -> list[int | None]:
    raw = subprocess.run(
        timecode_reader(FFMPEG, Input(str(path)), layout), capture_output=True, check=True,
        timeout=60,
    ).stdout
    size = layout.frame_bytes
    return [tc.decode_strip(raw[i : i + size], layout) for i in range(0, len(raw), size)]


CODECS = {
    "h264": ("mp4", {"c:v": "libx264", "preset": "veryfast", "b:v": "400k"}),
    "vp8": ("webm", {"c:v": "libvpx", "deadline": "realtime", "cpu-used": 8, "b:v": "400k"}),
}


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_codes_survive_encoding_within_one_frame_interval(codec: str, tmp_path: Path) -> None:
    ext, options = CODECS[codec]
    layout = tc.TimecodeLayout.for_frame(320, 240)
    encoded, reference = tmp_path / f"stamped.{ext}", tmp_path / "lossless.nut"
    source = Input("testsrc2=size=320x240:rate=25", {"f": "lavfi", "re": True, "t": 2})
    args = timecode_stamp(
        FFMPEG, source, [Output(str(encoded), options), Output(str(reference), {"c:v": "ffv1"})],
        layout, global_options={"loglevel": "error"},
    )
    began = tc.now_code(int(time.time() * 1000))
    subprocess.run(args, check=True, capture_output=True, timeout=60)
    ended = tc.now_code(int(time.time() * 1000))

    stamped = read_codes(reference, layout)
    decoded = read_codes(encoded, layout)
    assert len(stamped) == len(decoded) == 50
    assert None not in stamped and None not in decoded
    # What was stamped is the wall clock during the run: rising, and (with -re, after ffmpeg's
    # 0.5 s initial read burst) spread over at least the real-time span of the 50 frames.
    assert 0 <= tc.delta_ms(stamped[0], began) and tc.delta_ms(ended, stamped[-1]) >= 0
    assert all(tc.delta_ms(b, a) >= 0 for a, b in itertools.pairwise(stamped))
    assert tc.delta_ms(stamped[-1], stamped[0]) >= 49 * FRAME_MS - 500 - FRAME_MS
    # What the sink reads after the codec is what the source stamped.
    errors = [abs(tc.delta_ms(d, s)) for d, s in zip(decoded, stamped, strict=True)]
    assert max(errors) < FRAME_MS
    codec_name = "h264" if codec == "h264" else "vp8"
    assert ffprobe_json(encoded)["streams"][0]["codec_name"] == codec_name
