"""camera_fps_ratio: frames per second a client receives from the fake camera, over the
configured frame rate (the baseline), measured over 10 s. Target >= 0.99.

The camera runs as `mediagrid camera` (1280x720 at 25 fps by default); the client is ffmpeg
reading it over RTSP/TCP into `-f null` with `-progress`. The rate is the frame count between
the first progress report that has frames and the first one 10 s later, over the time between
their arrivals.

    python bench/camera_fps_ratio.py [--size 1280x720] [--fps 25] [--seconds 10]
"""

from __future__ import annotations

import argparse
import subprocess
import time
from fractions import Fraction

import imageio_ffmpeg

from mediagrid.simulator.camera.process import start_camera


def measure(url: str, seconds: float) -> tuple[float, int, float]:
    """(frames per second received, frames counted, seconds) by an ffmpeg client."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
           "-rtsp_transport", "tcp", "-timeout", "5000000", "-i", url, "-map", "0:v",
           "-f", "null", "-", "-progress", "pipe:1", "-stats_period", "0.25", "-nostats"]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first: tuple[float, int] | None = None
    frame = 0
    try:
        for line in process.stdout:
            key, _, value = line.strip().partition("=")
            if key == "frame":
                frame = int(value)
            elif key == "progress" and frame > 0:
                now = time.monotonic()
                if first is None:
                    first = (now, frame)
                elif now - first[0] >= seconds:
                    frames, elapsed = frame - first[1], now - first[0]
                    return frames / elapsed, frames, elapsed
        error = process.stderr.read() if process.stderr else ""
        raise RuntimeError(f"the ffmpeg client ended early: {error}")
    finally:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", default="25")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    configured = float(Fraction(args.fps))
    with start_camera(size=args.size, fps=args.fps, bitrate="2M") as camera:
        received, frames, elapsed = measure(camera.url, args.seconds)
    ratio = received / configured
    print(f"camera {args.size} at {configured:g} fps (baseline, configured rate)")
    print(f"client received {frames} frames in {elapsed:.2f} s = {received:.3f} fps")
    print(f"camera_fps_ratio: {ratio:.4f}")


if __name__ == "__main__":
    main()
