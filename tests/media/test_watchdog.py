"""The stall and backoff policy, driven by a fake clock: exact tiers, exact reset."""

from __future__ import annotations

import random

import pytest

from mediagrid.reference.media.watchdog import Backoff, BackoffPolicy, StallWatchdog


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def test_default_tiers_double_from_half_a_second_to_thirty() -> None:
    backoff = Backoff(BackoffPolicy(jitter=0.0), FakeClock())
    delays = [backoff.next_delay() for _ in range(10)]
    assert delays == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_tier_resets_only_after_the_healthy_period() -> None:
    clock = FakeClock()
    backoff = Backoff(BackoffPolicy(tiers=(0.0, 1.0, 5.0), healthy_reset=10.0, jitter=0), clock)
    assert [backoff.next_delay() for _ in range(3)] == [0.0, 1.0, 5.0]
    # 9.9 s of healthy streaming is not enough...
    backoff.healthy()
    clock.advance(9.9)
    backoff.healthy()
    assert backoff.next_delay() == 5.0
    # ...and a stall in between starts the healthy period over.
    backoff.healthy()
    clock.advance(6.0)
    backoff.unhealthy()
    backoff.healthy()
    clock.advance(6.0)
    backoff.healthy()
    assert backoff.next_delay() == 5.0
    # 10 s in one stretch resets to the first tier.
    backoff.healthy()
    clock.advance(10.0)
    backoff.healthy()
    assert [backoff.next_delay() for _ in range(2)] == [0.0, 1.0]


def test_jitter_stays_within_its_fraction_and_never_delays_the_immediate_tier() -> None:
    policy = BackoffPolicy(tiers=(0.0, 10.0), jitter=0.2)
    backoff = Backoff(policy, FakeClock(), random.Random(7))
    assert backoff.next_delay() == 0.0
    delays = [backoff.next_delay() for _ in range(200)]
    assert all(8.0 <= d <= 12.0 for d in delays)
    assert max(delays) - min(delays) > 1.0


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


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"tiers": ()}, "tiers"),
        ({"healthy_reset": 0}, "healthy_reset"),
        ({"jitter": 1.5}, "jitter"),
    ],
)
def test_bad_policy_names_the_setting(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        BackoffPolicy(**kwargs)  # type: ignore[arg-type]


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
