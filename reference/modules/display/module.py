"""The `display` sink: decoded frames in a window and in a browser preview, latency measured.

ffmpeg decodes what arrives and writes RGB frames (PPM) to its stdout; each frame is shown
in the entity's window (`window.py`), kept for the preview (`preview.py`), and its time code,
when the source stamped one, is read back: the latency from the source's stamp to this
frame's arrival is the connection's `latency_ms` (median of the last 3 s; -1 without codes).
The preview server starts with the entity, so its URL (metrics `preview_url`) is known before
any flow; the window opens at the first frame. A display without a desktop still runs and
previews, DEGRADED with the reason.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from mediagrid import sdk
from mediagrid.reference.media.timecode import delta_ms, now_code
from mediagrid.reference.modules.display.frames import Frame, TimecodeReader, read_frame
from mediagrid.reference.modules.display.preview import Preview
from mediagrid.reference.modules.display.window import Window, WindowError
from mediagrid.sdk import media

MANIFEST = Path(__file__).with_name("module.yaml")


def _pair(text: str | None, sep: str) -> tuple[int, int] | None:
    if not text:
        return None
    a, b = text.split(sep)
    return int(a), int(b)


class DisplaySink(media.MediaEntity):
    raw_output = True

    async def create(self) -> None:
        if "size" in self.config:
            media.parse_size(self.config["size"])
        port = int(self.config["preview_port"])
        if port > 65535:
            raise sdk.InvalidArgument(f"config.preview_port {port}: use 0 (any) or 1-65535")
        self.window: Window | None = None
        self.timecodes = TimecodeReader()
        self.frames_shown = 0
        self.preview = Preview(self.config.get("title") or self.name, self._runtime.bind_host,
                               port, int(self.config["preview_fps"]))
        try:
            await self.preview.start()
        except OSError as exc:
            raise sdk.FailedPrecondition(
                f"config.preview_port {port} cannot be used ({exc.strerror}): choose another"
                " port, or 0 for any free one") from None
        self.metrics["preview_url"] = self.preview.url

    async def destroy(self) -> None:
        await super().destroy()
        await self.preview.close()
        if self.window is not None:
            self.window.close()

    async def start(self, link: sdk.Link) -> None:
        self.metrics.pop("first_frame_ms", None)
        await super().start(link)

    def ffmpeg_args(self, quality: media.Quality | None, run: int) -> list[str]:
        return [*self.input_args(), "-map", "0:v:0", "-fps_mode", "passthrough",
                "-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24", "pipe:1"]

    async def read_output(self, stdout: asyncio.StreamReader) -> None:
        while (frame := await read_frame(stdout)) is not None:
            self.show(frame)
            await asyncio.sleep(0)  # let the other work of the loop in between frames

    def show(self, frame: Frame) -> None:
        now_ms = time.time_ns() // 1_000_000
        code = self.timecodes.read(frame)
        if code is not None:
            self.latency.add(delta_ms(now_code(now_ms), code))
        self.metrics.setdefault("first_frame_ms", now_ms)
        self.frames_shown += 1
        self.preview.put(frame)
        if self.config["window"] == "true" and not self.degraded:
            if self.window is None:
                self.window = Window(self.config.get("title") or self.name,
                                     _pair(self.config.get("size"), "x"),
                                     _pair(self.config.get("position"), ","))
            try:
                self.window.show(frame)
            except WindowError as exc:
                self.degraded = str(exc)
                self.set_health(sdk.Health.DEGRADED, self.degraded)
                self.report(self.degraded, severity="warning")
        self.metrics.update(frames_shown=self.frames_shown,
                            preview_watchers=self.preview.watchers)


def build() -> sdk.Module:
    module = sdk.Module.from_manifest(MANIFEST)
    module.entity("display")(DisplaySink)
    return module
