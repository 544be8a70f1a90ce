"""Errors of the media layer: each names what went wrong and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence


class FfmpegNotFound(RuntimeError):
    """The configured ffmpeg binary does not exist or cannot be executed."""


class FfmpegError(RuntimeError):
    """ffmpeg failed (or the supervisor gave up on it); quotes the tail of its stderr."""

    def __init__(
        self,
        name: str,
        reason: str,
        *,
        exit_code: int | None,
        stderr_tail: Sequence[str],
        args: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.reason = reason
        self.exit_code = exit_code
        self.stderr_tail = tuple(stderr_tail)
        self.command = tuple(args)
        tail = "\n".join(f"  | {line}" for line in self.stderr_tail) or "  | (no stderr output)"
        super().__init__(
            f"ffmpeg '{name}' {reason} (exit code {exit_code}); last stderr lines:\n{tail}"
        )
