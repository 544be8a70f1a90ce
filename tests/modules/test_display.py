"""The display: its window shows the picture (a screenshot of a virtual X screen compared with
the source's frame) and its preview serves JPEG frames a browser shows."""

from __future__ import annotations

import subprocess
import urllib.request

from mediagrid.reference.media import ffmpeg_path
from mediagrid.reference.modules.wiring import Flow
from tests import support
from tests.modules import checks

SIZE = (320, 240)
STRIP_ROWS = 24  # the time code strip (8 px cells at this size) and a margin


def rgb_of(args: list[str], stdin: bytes | None = None) -> bytes:
    return subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", *args,
                           "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                          input=stdin, capture_output=True, check=True, timeout=30).stdout


def pattern(name: str) -> bytes:
    return rgb_of(["-f", "lavfi", "-i", f"{name}=size={SIZE[0]}x{SIZE[1]}"])


def region(rgb: bytes, width: int, rows: range, columns: range) -> bytes:
    return b"".join(rgb[(r * width + columns.start) * 3 : (r * width + columns.stop) * 3]
                    for r in rows)


def mean_difference(a: bytes, b: bytes) -> float:
    assert len(a) == len(b)
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def below_strip(rgb: bytes, width: int) -> bytes:
    return region(rgb, width, range(STRIP_ROWS, SIZE[1]), range(SIZE[0]))


def test_window_shows_the_picture_and_the_preview_serves_jpeg(xvfb, start_module):
    sources = start_module("sources").client
    display = start_module("display", DISPLAY=xvfb).client
    source = sources.create("testsrc", {"size": "320x240", "pattern": "smptebars",
                                        "bitrate": "600k", "gop": "25"})
    screen = display.create("display", {"position": "0,0", "title": "bars"})
    preview = str(screen.metrics()["preview_url"])
    assert preview.startswith("http://127.0.0.1:")  # known before any flow
    flow = Flow("f1")
    flow.connect("c1", source, screen)
    flow.start()
    assert support.wait_until(lambda: screen.metrics().get("frames_shown", 0) >= 25, 30)
    shot = rgb_of(["-f", "x11grab", "-draw_mouse", "0", "-video_size", "640x480", "-i", xvfb])
    bars, other = pattern("smptebars"), pattern("testsrc2")
    window = region(shot, 640, range(SIZE[1]), range(SIZE[0]))
    assert mean_difference(below_strip(window, SIZE[0]), below_strip(bars, SIZE[0])) < 8
    assert mean_difference(below_strip(window, SIZE[0]), below_strip(other, SIZE[0])) > 40
    outside = region(shot, 640, range(300, 480), range(400, 640))
    assert max(outside) < 10  # the rest of the screen stays black: the window is where asked

    jpeg = urllib.request.urlopen(preview + "frame.jpg", timeout=10).read()
    assert jpeg[:2] == b"\xff\xd8"
    decoded = rgb_of(["-f", "image2pipe", "-i", "pipe:0"], stdin=jpeg)
    assert len(decoded) == SIZE[0] * SIZE[1] * 3
    assert mean_difference(below_strip(decoded, SIZE[0]), below_strip(bars, SIZE[0])) < 12
    with urllib.request.urlopen(preview + "stream.mjpg", timeout=10) as stream:
        assert stream.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        body = b""
        while body.count(b"\xff\xd9") < 2:  # two whole JPEG frames
            body += stream.read(4096)
    assert body.count(b"Content-Type: image/jpeg") >= 2
    page = urllib.request.urlopen(preview, timeout=10).read()
    assert b"stream.mjpg" in page

    status = checks.wait_flow(display, "f1", lambda f: f.status.latency_ms >= 0, 10,
                              "a latency measured from the time codes")
    assert 0 <= status.status.latency_ms < 3000  # source stamp to this window (rule P-10)
    flow.stop()
