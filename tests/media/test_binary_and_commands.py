"""Which ffmpeg runs, and the argument lists commands.py builds."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

from mediagrid.reference.media import FfmpegNotFound, ffmpeg_path
from mediagrid.reference.media.commands import Filter, Input, Output, transcode
from tests.media.helpers import FFMPEG
from tests.support import ffprobe_json


def test_the_bundled_ffmpeg_is_the_default() -> None:
    assert ffmpeg_path(env={}) == imageio_ffmpeg.get_ffmpeg_exe()


def test_setting_beats_environment_beats_prefer_system(tmp_path: Path) -> None:
    other = tmp_path / "my-ffmpeg"
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    env = {"MEDIAGRID_FFMPEG": str(other), "MEDIAGRID_PREFER_SYSTEM_FFMPEG": "1"}
    assert ffmpeg_path(env=env) == str(other)
    assert ffmpeg_path(FFMPEG, env=env) == FFMPEG
    system = shutil.which("ffmpeg")
    if system is not None:
        assert ffmpeg_path(env={"MEDIAGRID_PREFER_SYSTEM_FFMPEG": "1"}) == system


def test_a_missing_or_unusable_binary_is_named_with_a_fix(tmp_path: Path) -> None:
    with pytest.raises(FfmpegNotFound, match=r"MEDIAGRID_FFMPEG.*does not exist"):
        ffmpeg_path(env={"MEDIAGRID_FFMPEG": str(tmp_path / "nope")})
    plain = tmp_path / "not-executable"
    plain.write_text("")
    with pytest.raises(FfmpegNotFound, match="chmod"):
        ffmpeg_path(str(plain), env={})


def test_options_filters_and_flags_make_a_command_ffmpeg_runs(tmp_path: Path) -> None:
    out = tmp_path / "small.mkv"
    args = transcode(
        FFMPEG,
        Input("testsrc2=size=320x240:rate=25", {"f": "lavfi", "t": 0.4}),
        Output(str(out), {"c:v": "libx264", "preset": "ultrafast", "an": True}),
        video_filters=[Filter("scale", w=160, h=-2), Filter("fps", 10)],
        global_options={"loglevel": "error"},
    )
    assert args[0] == FFMPEG and args.index("-loglevel") < args.index("-i")
    subprocess.run(args, check=True, capture_output=True, timeout=60)
    video = ffprobe_json(out)["streams"][0]
    assert (video["width"], video["height"], video["r_frame_rate"]) == (160, 120, "10/1")


def test_a_dashed_option_name_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="without the leading dash"):
        transcode(FFMPEG, Input("x", {"-re": True}), Output("y"))


def test_ffmpeg_python_is_imported_only_by_commands_py() -> None:
    # ffmpeg-python is unmaintained: it must stay replaceable by rewriting one file.
    root = Path(__file__).resolve().parents[2]
    importers = []
    for folder in ("mediagrid", "reference", "simulator", "bench", "tests"):
        for source in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(source.read_text(), str(source))):
                names = (
                    [a.name for a in node.names] if isinstance(node, ast.Import)
                    else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                )
                if any(n == "ffmpeg" or n.startswith("ffmpeg.") for n in names):
                    importers.append(source.relative_to(root).as_posix())
    assert importers == ["reference/media/commands.py"]
