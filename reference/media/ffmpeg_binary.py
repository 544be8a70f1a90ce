"""Which ffmpeg to run.

Order of precedence:
1. an explicit path given by the caller (a module's setting);
2. the environment variable `MEDIAGRID_FFMPEG` (a path, or a command name looked up on PATH);
3. `MEDIAGRID_PREFER_SYSTEM_FFMPEG=1`: the `ffmpeg` found on PATH;
4. the static ffmpeg 9 shipped inside the imageio-ffmpeg wheel (the default: `pip install` alone
   gives a working ffmpeg with libx264, libvpx, RTSP, SRT and drawtext).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping

from mediagrid.reference.media.errors import FfmpegNotFound

ENV_BINARY = "MEDIAGRID_FFMPEG"
ENV_PREFER_SYSTEM = "MEDIAGRID_PREFER_SYSTEM_FFMPEG"
_TRUE = {"1", "true", "yes", "on"}


def _checked(candidate: str, origin: str) -> str:
    path = candidate if os.sep in candidate else shutil.which(candidate)
    if path is None or not os.path.isfile(path):
        raise FfmpegNotFound(
            f"ffmpeg from {origin} ({candidate!r}) does not exist: give the full path of an "
            f"ffmpeg binary, or unset it to use the one bundled with imageio-ffmpeg"
        )
    if not os.access(path, os.X_OK):
        raise FfmpegNotFound(f"ffmpeg from {origin} ({path}) is not executable: chmod +x it")
    return path


def ffmpeg_path(setting: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The ffmpeg binary to run (see the module docstring for the precedence)."""
    env = os.environ if env is None else env
    if setting:
        return _checked(setting, "the module setting")
    if env.get(ENV_BINARY):
        return _checked(env[ENV_BINARY], f"${ENV_BINARY}")
    if env.get(ENV_PREFER_SYSTEM, "").strip().lower() in _TRUE:
        found = shutil.which("ffmpeg")
        if found is None:
            raise FfmpegNotFound(
                f"${ENV_PREFER_SYSTEM} is set but no ffmpeg is on PATH: install one "
                f"(apt-get install ffmpeg) or unset {ENV_PREFER_SYSTEM}"
            )
        return _checked(found, "PATH")
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise FfmpegNotFound(
            "imageio-ffmpeg is not installed: pip install 'imageio-ffmpeg>=0.8.1', "
            f"or set ${ENV_BINARY} to an ffmpeg binary"
        ) from exc
    return _checked(imageio_ffmpeg.get_ffmpeg_exe(), "imageio-ffmpeg")
