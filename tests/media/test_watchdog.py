"""The stall policy, driven by a fake clock: exact limits (the backoff: tests/test_backoff.py)."""

from __future__ import annotations

import pytest

from mediagrid.reference.media.watchdog import StallWatchdog


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def test_stall_is_detected_exactly_at_the_timeout() -> None:
    clock = FakeClock()
    watchdog = StallWatchdog(3.0, clock)
    watchdog.started()
    clock.advance(2.0)
    assert watchdog.frames(0) is False  # frame 0: no picture yet
    clock.advance(0.999)
    assert not watchdog.stalled()
    clock.advance(0.001)
    assert watchdog.stalled()


def test_new_frames_hold_the_stall_off_and_a_repeated_count_does_not() -> None:
    clock = FakeClock()
    watchdog = StallWatchdog(2.0, clock)
    watchdog.started()
    for frame in (5, 10, 15):
        clock.advance(1.5)
        assert watchdog.frames(frame)
    clock.advance(1.5)
    assert watchdog.frames(15) is False
    assert watchdog.remaining() == pytest.approx(0.5)
    clock.advance(0.5)
    assert watchdog.stalled()
    watchdog.started()  # a restart: its count starts at 0 again
    assert not watchdog.stalled()
    assert watchdog.frames(3)


def test_the_first_frame_gets_the_start_timeout_then_the_stall_timeout_applies() -> None:
    clock = FakeClock()
    watchdog = StallWatchdog(1.5, clock, start_timeout=10.0)
    watchdog.started()
    clock.advance(9.9)
    assert not watchdog.stalled() and not watchdog.streaming
    assert watchdog.frames(1)
    clock.advance(1.5)
    assert watchdog.stalled()
    watchdog.started()  # a restart gets the start timeout again
    clock.advance(9.9)
    assert not watchdog.stalled()
    clock.advance(0.1)
    assert watchdog.stalled()
