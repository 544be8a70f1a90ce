"""The `file` sink: what arrives is written as it is (stream copy) to fragmented MP4 or MKV.

Fragmented MP4 (video: `empty_moov`, a fragment at each keyframe; audio: a fragment each
second) is playable up to its last complete fragment however the writer stops, SIGKILL
included; MKV writes its clusters as it goes. The path is checked when the entity is created
or configured (the folder is made if missing and must be writable), and an existing file is
never overwritten: each ffmpeg run, and each new flow, takes the next free name (`door.mp4`,
`door.1.mp4`, `door.2.mp4`...), except that a file the last run left without any media in it
is taken again (`containers.holds_media`), so a failure that repeats at every run (ffmpeg
restarted with the project's one backoff, the flow ERROR with ffmpeg's words) leaves no trail
of empty files.
"""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

from mediagrid import sdk
from mediagrid.reference.modules.recorder.containers import holds_media
from mediagrid.sdk import media

MANIFEST = Path(__file__).with_name("module.yaml")
FRAGMENTED_MP4 = "+frag_keyframe+empty_moov+default_base_moof"
"""Video: the header first (the file is valid from its first byte), a fragment per keyframe."""
FRAGMENTED_AUDIO_MP4 = "+default_base_moof"
AUDIO_FRAGMENT_US = "1000000"
"""Audio has no keyframes to cut at: a fragment each second. No `empty_moov`: the header is
written with the first fragment, once the muxer has seen a packet, which is what lets ffmpeg
put in the `aac_adtstoasc` filter that AAC from MPEG-TS (ADTS) needs in MP4 (with an empty
moov written first it fails: "Malformed AAC bitstream detected", "Error muxing a packet")."""
FORMATS = {"mp4": "mp4", "mkv": "matroska"}


def container_of(config: dict[str, str]) -> str:
    path = config["path"]
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    container = config.get("container") or (extension if extension in FORMATS else "mp4")
    if extension in FORMATS and extension != container:
        raise sdk.InvalidArgument(
            f"config.container {container} does not match config.path {path!r}: name the file"
            f" .{container}, or set container to {extension}")
    return container


def check_writable(path: str) -> None:
    """FAILED_PRECONDITION naming config.path unless its folder exists (or can be made) and
    takes a new file."""
    if os.path.isdir(path):
        raise sdk.InvalidArgument(f"config.path {path!r} is a folder: give a file name in it")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".mediagrid-probe-"):
            pass
    except OSError as exc:
        raise sdk.FailedPrecondition(
            f"config.path {path!r} is not writable ({exc.strerror or exc}): choose a folder this"
            " module can write to") from None


def _segment_number(path: str) -> int:
    return int(os.path.splitext(path)[0][-5:])


def free_name(path: str) -> str:
    """`path` when it does not exist yet, else the first free `stem.N.ext`."""
    if not os.path.exists(path):
        return path
    stem, extension = os.path.splitext(path)
    n = 1
    while os.path.exists(f"{stem}.{n}{extension}"):
        n += 1
    return f"{stem}.{n}{extension}"


class FileSink(media.MediaEntity):
    async def create(self) -> None:
        self.check(self.config)
        self.files: list[str] = []
        """Each run's target (a file, or a segment pattern), in order."""
        self._segment_start = 0

    async def configure(self, config: dict[str, str]) -> None:
        self.check(config)

    @staticmethod
    def check(config: dict[str, str]) -> None:
        container_of(config)
        check_writable(config["path"])
        if config.get("segment_seconds") is not None and int(config["segment_seconds"]) < 1:
            raise sdk.InvalidArgument("config.segment_seconds must be at least 1")

    def mp4_options(self) -> dict[str, str]:
        if self.audio:
            return {"movflags": FRAGMENTED_AUDIO_MP4, "frag_duration": AUDIO_FRAGMENT_US}
        return {"movflags": FRAGMENTED_MP4}

    def ffmpeg_args(self, quality: media.Quality | None, run: int) -> list[str]:
        container = container_of(self.config)
        self._drop_empty_leftovers(container)
        options = self.mp4_options() if container == "mp4" else {}
        if self.config.get("segment_seconds"):
            target = self._segment_pattern(container)
            self._segment_start = self._next_segment(target)
            inner = ":".join(f"{k}={v}" for k, v in options.items())
            muxer = ["-f", "segment", "-segment_time", self.config["segment_seconds"],
                     "-segment_format", FORMATS[container], "-reset_timestamps", "1",
                     "-segment_start_number", str(self._segment_start),
                     *(["-segment_format_options", inner] if inner else [])]
        else:
            target = free_name(self.config["path"])
            muxer = ["-f", FORMATS[container],
                     *(arg for k, v in options.items() for arg in (f"-{k}", v))]
            if not self.files or self.files[-1] != target:
                self.report(f"recording to {target}")
        self.files.append(target)
        self.metrics["file"] = target
        # -flush_packets 1: each fragment reaches the file when it is complete, not when
        # ffmpeg's output buffer fills (a killed recorder would lose that buffer).
        return [*self.input_args(), "-map", "0", "-c", "copy", "-flush_packets", "1", *muxer,
                target]

    def _drop_empty_leftovers(self, container: str) -> None:
        """Removes what the last run wrote when it holds no media (it failed before its first
        packet reached the file), so this run takes the same name again."""
        if not self.files:
            return
        last = self.files[-1]
        if "%05d" not in last:
            if os.path.exists(last) and not holds_media(last, container):
                os.remove(last)
            return
        for path in sorted(glob.glob(last.replace("%05d", "[0-9]" * 5)), reverse=True):
            if _segment_number(path) < self._segment_start or holds_media(path, container):
                break
            os.remove(path)

    def _segment_pattern(self, container: str) -> str:
        stem, extension = os.path.splitext(self.config["path"])
        return f"{stem}-%05d{extension or '.' + container}"

    @staticmethod
    def _next_segment(pattern: str) -> int:
        taken = glob.glob(pattern.replace("%05d", "[0-9]" * 5))
        return 1 + max(map(_segment_number, taken), default=0)

    def bytes_written(self) -> int:
        total = 0
        for target in dict.fromkeys(self.files):
            paths = glob.glob(target.replace("%05d", "[0-9]" * 5)) if "%05d" in target \
                else [target]
            total += sum(os.path.getsize(p) for p in paths if os.path.exists(p))
        return total


def build() -> sdk.Module:
    module = sdk.Module.from_manifest(MANIFEST)
    module.entity("file")(FileSink)
    return module
