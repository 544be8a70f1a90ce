"""The well-behaved module every mutant starts from: a test-pattern video source, a tone audio
source and a null video sink on mediagrid.sdk, configurable and token-aware, moving real media
with supervised ffmpeg (`mediagrid.reference.media.FfmpegProcess`).

Mutants change one behaviour of this module (or of the SDK under it) through `FLAGS` and the
patches in `catalogue.py`; with no flag it passes the whole conformance suite.
"""

from __future__ import annotations

import os
from pathlib import Path

from mediagrid import sdk
from mediagrid.reference.media import FfmpegProcess, Progress, ffmpeg_path

STALL_AFTER = 3.0  # module.yaml says conformance.stall_period: 3s
FLAGS: set[str] = set()  # behaviours a mutant switches on (see catalogue.py)
CONFIG_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "level": {"type": "string", "enum": ["low", "high"], "default": "low"},
        "label": {"type": "string", "pattern": "^[a-z]{1,20}$"},
    },
}


def metrics_from(link: sdk.Link, progress: Progress, *, fps: float | None = None) -> None:
    measured = progress.fps or 0.0
    link.update_metrics(frames=progress.frame, fps=measured if fps is None else fps,
                        bitrate_bps=int((progress.bitrate_kbps or 0) * 1000),
                        dropped_frames=progress.drop_frames)


async def supervise(link: sdk.Link, args: list[str], on_progress) -> None:  # type: ignore[no-untyped-def]
    """Runs ffmpeg for the life of the link; the SDK cancels this task at StopFlow."""
    process = FfmpegProcess(args, name=f"link-{link.id}", stall_timeout=None,
                            restart="on-failure", on_progress=on_progress)
    async with process:
        await process.wait()


def build(manifest: Path) -> sdk.Module:
    module = sdk.Module.from_manifest(manifest)
    module.config_schema = CONFIG_SCHEMA
    binary = ffmpeg_path()

    @module.on_startup
    async def tune(runtime: sdk.ModuleRuntime) -> None:
        runtime.flows.stall_after = STALL_AFTER

    @module.entity("testsrc")
    class TestSource(sdk.Entity):
        def rate(self) -> int:
            return int(self.config["rate"])

        async def start(self, link: sdk.Link) -> None:
            if link.role is not sdk.Role.SOURCE:
                return
            sending = [k for k in self.links.values() if k.flow_id and k is not link]
            if "one-target-per-source" in FLAGS and sending:
                return  # mutant: only the first target gets media (P-5)
            rate = self.rate() // 2 if "metrics-from-config" in FLAGS else self.rate()
            args = [binary, "-y", "-re", "-f", "lavfi", "-i",
                    f"testsrc=size={self.config['size']}:rate={rate}", "-c:v", "mpeg2video",
                    "-f", "mpegts", link.endpoint.url]
            claimed = float(self.rate()) if "metrics-from-config" in FLAGS else None
            link.spawn(supervise(link, args, lambda p: metrics_from(link, p, fps=claimed)))

    @module.entity("tone")
    class Tone(sdk.Entity):
        async def start(self, link: sdk.Link) -> None:
            if link.role is not sdk.Role.SOURCE:
                return
            args = [binary, "-y", "-re", "-f", "lavfi", "-i",
                    f"sine=frequency={self.config['frequency']}:sample_rate=48000",
                    "-c:a", "mp2", "-f", "mpegts", link.endpoint.url]
            link.spawn(supervise(link, args, lambda p: metrics_from(link, p)))

    @module.entity("null")
    class NullSink(sdk.Entity):
        async def start(self, link: sdk.Link) -> None:
            if "active-without-media" in FLAGS:
                link.update_metrics(fps=25.0)  # mutant: claims media before any arrives (P-11)
            if link.role is sdk.Role.LOCAL:
                assert isinstance(link.source, TestSource)
                inputs = ["-re", "-f", "lavfi", "-i",
                          f"testsrc=size={link.source.config['size']}:rate={link.source.rate()}"]
                wire = ["-c:v", "mpeg2video"]
            else:
                inputs = ["-analyzeduration", "500000", "-i", link.endpoint.url]
                wire = ["-c", "copy"]
            args = [binary, "-y", *inputs, "-map", "0", *wire, "-f", "mpegts", os.devnull,
                    "-map", "0", "-f", "null", "-"]
            if "metrics-from-config" in FLAGS:  # mutant: nominal figures, not measured (P-10)
                def claim(p: Progress) -> None:
                    link.update_metrics(frames=p.frame, fps=25.0, bitrate_bps=1_000_000)
                link.spawn(supervise(link, args, claim))
            else:
                link.spawn(supervise(link, args, lambda p: metrics_from(link, p)))

    return module
