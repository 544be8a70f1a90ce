"""The one backoff (mediagrid.backoff): exact delays and resets on a hand-moved clock."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from mediagrid.backoff import REPORT_RETRY, RESTART, STARTUP_RETRY, Backoff, BackoffPolicy
from mediagrid.manifest import load_manifest


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def no_jitter(policy: BackoffPolicy) -> BackoffPolicy:
    return BackoffPolicy(policy.initial, policy.multiplier, policy.max, 0.0, policy.reset_after,
                         policy.first_at_once)


def test_restart_default_is_at_once_then_half_a_second_doubling_to_thirty() -> None:  # H-16
    backoff = Backoff(no_jitter(RESTART), clock=Clock())
    delays = [backoff.next_delay() for _ in range(10)]
    assert delays == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_startup_retry_default_is_50ms_times_1_6_capped_at_1s() -> None:  # H-21
    delays = [d for d, _ in zip(no_jitter(STARTUP_RETRY).delays(), range(9), strict=False)]
    assert delays == pytest.approx(
        [0.05, 0.08, 0.128, 0.2048, 0.32768, 0.524288, 0.8388608, 1.0, 1.0])


def test_report_retry_default_is_50ms_doubling_to_2s() -> None:  # E-3
    backoff = Backoff(no_jitter(REPORT_RETRY))
    assert [backoff.next_delay() for _ in range(8)] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    backoff.reset()
    assert backoff.next_delay() == 0.05


def test_count_resets_only_after_reset_after_of_healthy_time_in_one_stretch() -> None:
    clock = Clock()
    policy = BackoffPolicy(initial=1.0, multiplier=5.0, max=25.0, jitter=0, reset_after=10.0,
                           first_at_once=True)
    backoff = Backoff(policy, clock=clock)
    assert [backoff.next_delay() for _ in range(3)] == [0.0, 1.0, 5.0]
    # 9.9 s of healthy running is not enough...
    backoff.healthy()
    clock.t += 9.9
    backoff.healthy()
    assert backoff.next_delay() == 25.0
    # ...an unhealthy spell in between starts the healthy time over...
    backoff.healthy()
    clock.t += 6.0
    backoff.unhealthy()
    backoff.healthy()
    clock.t += 6.0
    backoff.healthy()
    assert backoff.attempt == 4
    # ...and 10 s in one stretch resets the count to the first delay.
    clock.t += 4.0
    backoff.healthy()
    assert [backoff.next_delay() for _ in range(2)] == [0.0, 1.0]


def test_a_crash_ends_the_healthy_stretch_even_without_unhealthy() -> None:
    # Healthy for 8 s, then a crash (next_delay) and 3 s healthy again: 11 s in all, but not in
    # one stretch, so the count must not reset.
    clock = Clock()
    policy = BackoffPolicy(initial=1.0, multiplier=2.0, max=8.0, jitter=0, reset_after=10.0)
    backoff = Backoff(policy, clock=clock)
    backoff.next_delay()
    backoff.healthy()
    clock.t += 8.0
    backoff.healthy()
    assert backoff.next_delay() == 2.0
    backoff.healthy()
    clock.t += 3.0
    backoff.healthy()
    assert backoff.next_delay() == 4.0
    assert backoff.healthy_for == 0.0


def test_without_reset_after_only_reset_starts_over() -> None:
    clock = Clock()
    backoff = Backoff(BackoffPolicy(initial=1.0, max=4.0, jitter=0), clock=clock)
    backoff.next_delay()
    backoff.healthy()
    clock.t += 10_000
    backoff.healthy()
    assert backoff.next_delay() == 2.0


def test_jitter_stays_in_its_band_is_reproducible_and_never_delays_at_once() -> None:
    policy = BackoffPolicy(initial=10.0, multiplier=1.0, max=10.0, jitter=0.2, first_at_once=True)
    first = Backoff(policy, rng=random.Random(7))
    again = Backoff(policy, rng=random.Random(7))
    assert first.next_delay() == 0.0
    again.next_delay()
    delays = [first.next_delay() for _ in range(200)]
    assert delays == [again.next_delay() for _ in range(200)]
    assert all(8.0 <= d <= 12.0 for d in delays)
    assert max(delays) - min(delays) > 1.0


def test_huge_attempt_counts_do_not_overflow() -> None:
    assert RESTART.base_delay(10_000) == 30.0


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"initial": -1.0}, "initial"),
        ({"initial": 1.0, "multiplier": 0.5}, "multiplier"),
        ({"initial": 5.0, "max": 1.0}, "longer than max"),
        ({"initial": 1.0, "jitter": 1.5}, "jitter"),
        ({"initial": 1.0, "reset_after": 0.0}, "reset_after"),
        ({"initial": float("nan")}, "initial"),
    ],
)
def test_a_bad_policy_names_the_setting(kwargs: dict[str, float], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        BackoffPolicy(**kwargs)


def test_module_yaml_backoffs_are_the_one_backoff_with_overrides(tmp_path: Path) -> None:  # C-7
    (tmp_path / "module.yaml").write_text(
        "id: tuned\ncommand: [\"{python}\", \"module.py\"]\nsupervision:\n"
        "  restart_backoff: {initial: 100ms, max: 2s, reset_after: 5s}\n"
        "  startup_retry: {multiplier: 2}\n"
    )
    sup = load_manifest(tmp_path).supervision
    assert sup.restart_backoff == BackoffPolicy(initial=0.1, multiplier=2.0, max=2.0, jitter=0.2,
                                                reset_after=5.0, first_at_once=True)
    assert sup.startup_retry == BackoffPolicy(initial=0.05, multiplier=2.0, max=1.0, jitter=0.2)
    defaults = load_manifest(Path(__file__).parent.parent / "fixtures/modules/minimal").supervision
    assert (defaults.restart_backoff, defaults.startup_retry) == (RESTART, STARTUP_RETRY)
