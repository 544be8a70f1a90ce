"""glass_to_glass: latency from the camera to the display, from the frames' time codes (ms).

The fake camera stamps each frame with the wall clock as it makes it (reference/media's time
code, 1280x720, 25 fps, a keyframe a second); the rtsp source pulls it, the transcoder scales
it to 640x360 and re-encodes it, and the display decodes it and shows it in its window (SDL's
dummy driver, so no screen is needed). The display reads each frame's code when the frame is
in hand: latency = its clock - the code. Every 3 s the display's window of the last 3 s gives
its median and p95 (GetEntityStatus metrics latency_ms, latency_p95_ms); the figures are the
medians of those windows. The baseline, in the same run: a bare ffmpeg pulling the same camera
and decoding the strip itself (the camera, RTSP and one decoder: what no pipeline can beat).
Target p50 <= 300 ms.

    python bench/glass_to_glass.py [--seconds 21]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mediagrid.reference.media import commands, ffmpeg_path, presets
from mediagrid.reference.media.timecode import (
    TimecodeLayout,
    decode_strip,
    delta_ms,
    now_code,
    stamp_filter,
)
from mediagrid.reference.modules.wiring import Flow
from mediagrid.simulator.camera.process import start_camera

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _modules import module

SIZE = "1280x720"
WINDOW = 3.0


def baseline(url: str, seconds: float) -> list[int]:
    """Latencies of a bare ffmpeg client reading the camera's codes itself."""
    layout = TimecodeLayout.for_frame(1280, 720)
    options = presets.rtsp_input(timeout_s=5)
    args = commands.timecode_reader(ffmpeg_path(), commands.Input(url, options), layout,
                                    global_options={"loglevel": "error", "t": seconds})
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    found = []
    while strip := process.stdout.read(layout.frame_bytes):
        if len(strip) < layout.frame_bytes:
            break
        code = decode_strip(strip, layout)
        if code is not None:
            found.append(delta_ms(now_code(time.time_ns() // 1_000_000), code))
    process.wait()
    return found[25:]  # after the first second (connecting, probing)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=21.0)
    opts = parser.parse_args()
    camera = start_camera(size=SIZE, fps=25, gop=25, bitrate="2M", audio="none",
                          video_filters=[stamp_filter(TimecodeLayout.for_frame(1280, 720))])
    try:
        floor = baseline(camera.url, 8)
        with module("sources") as (_, sources), module("transcoder") as (_, transcoder), \
                module("display", SDL_VIDEODRIVER="dummy") as (_, display):
            source = sources.create("rtsp", {"url": camera.url})
            converter = transcoder.create("transcode", {"size": "640x360", "bitrate": "600k",
                                                        "gop": "25"})
            screen = display.create("display", {})
            flow = Flow("f1")
            flow.connect("c1", source, converter)
            flow.connect("c2", converter, screen)
            flow.start()
            deadline = time.monotonic() + 30
            while screen.metrics().get("frames_shown", 0) < 50:
                if time.monotonic() > deadline:
                    raise SystemExit("no frames reached the display within 30 s")
                time.sleep(0.1)
            p50s, p95s = [], []
            for _ in range(int(opts.seconds / WINDOW)):
                time.sleep(WINDOW)
                metrics = screen.metrics()
                if int(metrics.get("latency_ms", -1)) >= 0:
                    p50s.append(int(metrics["latency_ms"]))
                    p95s.append(int(metrics["latency_p95_ms"]))
            flow.stop()
    finally:
        camera.stop()
    if not p50s:
        raise SystemExit("the display measured no latency: were the time codes readable?")
    p50, p95 = statistics.median(p50s), statistics.median(p95s)
    base = statistics.median(floor)
    print(f"windows of {WINDOW:g} s: p50 {p50s} ms, p95 {p95s} ms")
    print(f"baseline (camera -> bare ffmpeg decoding the strip): p50 {base:.0f} ms")
    print(f"p95: {p95:.0f} ms; ratio to the baseline: {p50 / base:.2f}")
    print(f"glass_to_glass: {p50:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
