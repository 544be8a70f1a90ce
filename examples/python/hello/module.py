"""hello: a test-pattern source and a null sink on mediagrid.sdk (walkthrough: docs/sdk.md).

A flow really moves media: on a LOCAL connection the null sink runs
`ffmpeg -f lavfi -i testsrc ... -f null -`; across modules the source sends MPEG-TS over UDP
to the endpoint the sink's module listens on. ffmpeg's -progress output becomes metrics.
"""

import asyncio
from pathlib import Path

import imageio_ffmpeg

from mediagrid import sdk
from mediagrid.process import die_with_parent_preexec

module = sdk.Module.from_manifest(Path(__file__).with_name("module.yaml"))
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


@module.entity("testsrc")
class TestSource(sdk.Entity):
    def ffmpeg_input(self) -> list[str]:
        size, rate = self.config["size"], self.config["rate"]
        return ["-re", "-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}"]

    async def start(self, link: sdk.Link) -> None:
        if link.role is sdk.Role.SOURCE:  # another module's sink listens at link.endpoint
            output = ["-c:v", "mpeg2video", "-f", "mpegts", link.endpoint.url]
            link.spawn(run_ffmpeg(link, [*self.ffmpeg_input(), *output]))
        # LOCAL: the null sink runs the whole pipeline itself (see below).


@module.entity("null")
class NullSink(sdk.Entity):
    async def start(self, link: sdk.Link) -> None:
        if link.role is sdk.Role.LOCAL:
            inputs = link.source.ffmpeg_input()
        else:  # TARGET: listen (on our bind host only) where the source's module sends
            inputs = ["-analyzeduration", "500000", "-i", link.endpoint.listen_url]
        link.spawn(run_ffmpeg(link, [*inputs, "-f", "null", "-"]))


async def run_ffmpeg(link: sdk.Link, args: list[str]) -> None:
    """Runs ffmpeg until it ends or the flow stops; reports its progress as link metrics."""
    process = await asyncio.create_subprocess_exec(
        FFMPEG, "-hide_banner", "-nostats", "-loglevel", "error",
        "-progress", "pipe:1", "-stats_period", "0.5", *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=die_with_parent_preexec(),  # ffmpeg never outlives the module (H-19)
    )
    stderr = asyncio.ensure_future(process.stderr.read())  # always drain stderr
    try:
        progress: dict[str, str] = {}
        async for line in process.stdout:
            key, _, value = line.decode().strip().partition("=")
            progress[key] = value
            if key == "progress":  # the last line of one progress block
                link.update_metrics(
                    frames=int(progress.get("frame", "0")),
                    fps=float(progress.get("fps", "0") or 0),
                    bitrate_bps=parse_bitrate(progress.get("bitrate", "")),
                    dropped_frames=int(progress.get("drop_frames", "0")),
                )
        if await process.wait() != 0:
            raise RuntimeError(f"ffmpeg exited {process.returncode}: {(await stderr).decode()}")
    finally:
        if process.returncode is None:  # the flow was stopped: stop ffmpeg with it
            process.kill()
            await process.wait()
        stderr.cancel()


def parse_bitrate(text: str) -> int:
    """ffmpeg prints '1234.5kbits/s' (or 'N/A')."""
    return int(float(text.removesuffix("kbits/s")) * 1000) if text.endswith("kbits/s") else 0


if __name__ == "__main__":
    sdk.serve(module)
