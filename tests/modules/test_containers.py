"""The recorder reads a recording's container to tell a file a failed run left empty (header
only, or nothing) from one holding media: only the former is ever removed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mediagrid.reference.media import ffmpeg_path
from mediagrid.reference.modules.recorder.containers import holds_media


def record(path: Path, *args: str) -> None:
    """One second of a tone (or with `args`, of what they ask for) into `path`; a container
    that refuses the stream leaves what ffmpeg wrote before failing."""
    subprocess.run([ffmpeg_path(), "-loglevel", "quiet", "-f", "lavfi", "-i",
                    "sine=sample_rate=48000", "-t", "1", "-ac", "2", *args, str(path)],
                   timeout=60, check=False)


def test_a_header_without_media_is_told_from_a_recording(tmp_path):
    for container, options in (("mkv", []), ("mp4", ["-movflags", "+frag_keyframe+empty_moov",
                                                      "-frag_duration", "200000"])):
        full, empty = tmp_path / f"full.{container}", tmp_path / f"empty.{container}"
        record(full, "-c:a", "aac", *options)
        # PCM in 302M framing: MP4 and Matroska refuse it after the file is opened
        record(empty, "-c:a", "s302m", "-strict", "-2", *options)
        assert full.stat().st_size > 10_000 and holds_media(str(full), container)
        assert empty.exists() and not holds_media(str(empty), container), empty.stat()
    header_only = tmp_path / "header.mp4"  # an empty moov and no fragment yet
    record(header_only, "-c:a", "aac", "-movflags", "+frag_keyframe+empty_moov", "-t", "0")
    assert header_only.stat().st_size > 0 and not holds_media(str(header_only), "mp4")
    assert not holds_media(str(tmp_path / "never-made.mp4"), "mp4")
    (tmp_path / "odd.mkv").write_bytes(b"\x00" * 64)  # not EBML: kept, never judged empty
    assert holds_media(str(tmp_path / "odd.mkv"), "mkv")
