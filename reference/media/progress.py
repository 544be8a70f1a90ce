"""ffmpeg's `-progress` output, parsed into typed updates.

ffmpeg writes a block of `key=value` lines every `-stats_period` seconds, ending with
`progress=continue` (or `progress=end` on the last block):

    frame=25  fps=24.98  stream_0_0_q=28.0  bitrate= 322.7kbits/s  total_size=37111
    out_time_us=920000  out_time_ms=920000  out_time=00:00:00.920000
    dup_frames=0  drop_frames=0  speed=0.998x  progress=continue

`N/A` becomes None. `out_time_ms` is (despite its name) in microseconds, so `out_time_us` is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    """One `-progress` block. Figures ffmpeg reports as N/A are None."""

    frame: int = 0
    fps: float | None = None
    bitrate_kbps: float | None = None
    total_size: int | None = None
    out_time_s: float | None = None
    speed: float | None = None
    drop_frames: int = 0
    dup_frames: int = 0
    ended: bool = False
    raw: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


def _number(text: str | None, suffix: str = "") -> float | None:
    if text is None:
        return None
    text = text.strip()
    if suffix and text.endswith(suffix):
        text = text[: -len(suffix)].strip()
    if not text or text.upper() == "N/A":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _integer(text: str | None) -> int | None:
    value = _number(text)
    return None if value is None else int(value)


def progress_from_block(block: dict[str, str]) -> Progress:
    """Turns one block of `key=value` pairs into a Progress."""
    out_time_us = _integer(block.get("out_time_us"))
    return Progress(
        frame=_integer(block.get("frame")) or 0,
        fps=_number(block.get("fps")),
        bitrate_kbps=_number(block.get("bitrate"), "kbits/s"),
        total_size=_integer(block.get("total_size")),
        out_time_s=None if out_time_us is None or out_time_us < 0 else out_time_us / 1e6,
        speed=_number(block.get("speed"), "x"),
        drop_frames=_integer(block.get("drop_frames")) or 0,
        dup_frames=_integer(block.get("dup_frames")) or 0,
        ended=block.get("progress", "").strip() == "end",
        raw=dict(block),
    )


class ProgressParser:
    """Feed it lines of `-progress` output; it returns a Progress when a block completes."""

    def __init__(self) -> None:
        self._block: dict[str, str] = {}

    def feed(self, line: str) -> Progress | None:
        line = line.strip()
        if not line or "=" not in line:
            return None
        key, _, value = line.partition("=")
        self._block[key.strip()] = value.strip()
        if key.strip() != "progress":
            return None
        block, self._block = self._block, {}
        return progress_from_block(block)

    def feed_text(self, text: str) -> list[Progress]:
        """Parses several lines at once (handy for tests and logs)."""
        found = [self.feed(line) for line in text.splitlines()]
        return [p for p in found if p is not None]
