"""timecode_error_ms: how far the time read back from decoded frames is from the stamped time.

ffmpeg stamps the wall clock into 10 s of a 25 fps test pattern in real time (-re), writing the
stamped frames twice: encoded (H.264 at 500 kbit/s, then VP8 at 500 kbit/s) and lossless (FFV1,
the baseline: what was stamped). Both are decoded and read back; the figure is the largest
|read-back - stamped| over all frames of both codecs, in ms. A frame whose code does not read
back counts as an infinite error. Target <= 40 (one frame interval).

    python bench/timecode_error_ms.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import subprocess
import sys
import tempfile
from pathlib import Path

from mediagrid.reference.media import FfmpegProcess, ffmpeg_path
from mediagrid.reference.media import timecode as tc
from mediagrid.reference.media.commands import Input, Output, timecode_reader, timecode_stamp

CODECS = {
    "h264": ("mp4", {"c:v": "libx264", "preset": "veryfast", "b:v": "500k"}),
    "vp8": ("webm", {"c:v": "libvpx", "deadline": "realtime", "cpu-used": 8, "b:v": "500k"}),
}


def read_codes(ffmpeg: str, path: Path, layout: tc.TimecodeLayout) -> list[int | None]:
    raw = subprocess.run(
        timecode_reader(ffmpeg, Input(str(path)), layout), capture_output=True, check=True
    ).stdout
    size = layout.frame_bytes
    return [tc.decode_strip(raw[i : i + size], layout) for i in range(0, len(raw), size)]


async def stamp(ffmpeg: str, seconds: float, outputs: list[Output], layout: tc.TimecodeLayout):
    source = Input("testsrc2=size=640x360:rate=25", {"f": "lavfi", "re": True, "t": seconds})
    args = timecode_stamp(ffmpeg, source, outputs, layout)
    proc = FfmpegProcess(args, name="stamp", restart="never")
    await proc.start()
    await proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    opts = parser.parse_args()
    ffmpeg = ffmpeg_path()
    layout = tc.TimecodeLayout.for_frame(640, 360)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for codec, (ext, options) in CODECS.items():
            encoded, lossless = Path(tmp) / f"{codec}.{ext}", Path(tmp) / f"{codec}.nut"
            outputs = [Output(str(encoded), options), Output(str(lossless), {"c:v": "ffv1"})]
            asyncio.run(stamp(ffmpeg, opts.seconds, outputs, layout))
            stamped = read_codes(ffmpeg, lossless, layout)
            decoded = read_codes(ffmpeg, encoded, layout)
            if len(stamped) != len(decoded) or None in stamped:
                print(f"{codec}: {len(stamped)} stamped vs {len(decoded)} decoded frames")
                worst = math.inf
                continue
            errors = [
                math.inf if d is None else abs(tc.delta_ms(d, s))
                for d, s in zip(decoded, stamped, strict=True)
            ]
            unread = sum(d is None for d in decoded)
            print(
                f"{codec}: {len(errors)} frames, {unread} unreadable, "
                f"max error {max(errors)} ms, size {encoded.stat().st_size} bytes"
            )
            worst = max(worst, max(errors))
    print(f"frame interval: 40 ms; ratio of error to it: {worst / 40:.3f}")
    print(f"timecode_error_ms: {worst:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
