"""The event history checker on recorded histories (docs/chaos.md, `event-history`): every
acknowledged report reached the subscriber exactly once (E-4, E-12), in per-instance
sequence order (E-2, E-11), with no undeclared gap (E-22), under strictly rising cursors
(E-11). Each planted loss, duplicate, gap, reordering and cursor fault must be named as what
it is: the report's "lost" and "duplicated" figures (which must be 0) are read from here."""

from __future__ import annotations

from mediagrid.simulator.chaos.history import check_history
from mediagrid.simulator.chaos.subscribers import Seen
from tests.simulator.recorded import WARNING, history


def test_a_clean_history_holds() -> None:
    seen = history(("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3))
    verdict = check_history(0, seen, {"a": {1, 2, 3}, "b": {1, 2}})
    assert verdict.ok and verdict.received == 5


def test_a_planted_loss_is_named() -> None:
    verdict = check_history(0, history(("a", 1), ("a", 3)), {"a": {1, 2, 3}})
    assert verdict.lost == [("cam", "a", 2)] and not verdict.ok
    assert verdict.gaps == []  # an acknowledged report missing is a loss, not a gap too


def test_a_planted_duplicate_is_named_also_across_a_reconnect() -> None:
    verdict = check_history(0, history(("a", 1), ("a", 2), ("a", 2), ("a", 3)),
                            {"a": {1, 2, 3}})
    assert verdict.duplicated == [("cam", "a", 2)] and not verdict.ok


def test_a_planted_gap_is_named_unless_declared_or_thrown_away_on_purpose() -> None:
    verdict = check_history(0, history(("a", 1), ("a", 4)), {"a": {1, 4}})
    assert verdict.gaps == [("a", 2, 3)] and not verdict.ok
    declared = [*history(("a", 1)),
                Seen(f"{2:024d}", "cam", "a", 4, "event", WARNING,
                     details=(("dropped_reports", "2"), ("first_dropped", "2"),
                              ("last_dropped", "3")))]
    assert check_history(0, declared, {"a": {1, 4}}).ok  # E-22 declared them
    excused = check_history(0, history(("a", 1), ("a", 4)), {"a": {1, 4}}, {"a": {2, 3}})
    assert excused.ok and excused.excused == 2


def test_a_planted_reordering_and_a_cursor_going_back_are_named() -> None:
    verdict = check_history(0, history(("a", 1), ("a", 3), ("a", 2)), {"a": {1, 2, 3}})
    assert verdict.reordered == [("cam", "a", 2, 3)] and not verdict.ok
    backwards = [*history(("a", 1)), Seen(f"{0:024d}", "cam", "a", 2, "event")]
    assert check_history(0, backwards, {"a": {1, 2}}).cursors


def test_an_instance_none_of_whose_reports_arrived_is_named_lost_whole() -> None:
    """A module instance killed after the orchestrator acknowledged its reports: not one of
    them reached this subscriber (E-4). Every one is lost, though the subscriber never heard
    of the instance."""
    verdict = check_history(0, history(("a", 1), ("a", 2)), {"a": {1, 2}, "b": {1, 2}},
                            modules={"a": "cam", "b": "nvr"})
    assert verdict.lost == [("nvr", "b", 1), ("nvr", "b", 2)] and not verdict.ok


def test_a_duplicate_redelivered_after_later_reports_is_a_duplicate_not_a_reordering() -> None:
    """A resume from an old cursor (E-12) repeats report 2 after 3: that is a repeat."""
    verdict = check_history(0, history(("a", 1), ("a", 2), ("a", 3), ("a", 2)),
                            {"a": {1, 2, 3}})
    assert verdict.duplicated == [("cam", "a", 2)] and verdict.reordered == []


def test_order_is_per_instance_a_new_instance_starts_again_at_one() -> None:
    """E-2: sequences are per instance. A module restarted (instance b) numbers from 1 again
    while its old instance had reached 5: no reordering."""
    seen = history(*((("a", n)) for n in range(1, 6)), ("b", 1), ("a", 6), ("b", 2))
    verdict = check_history(0, seen, {"a": set(range(1, 7)), "b": {1, 2}})
    assert verdict.ok, verdict


def test_every_report_arriving_after_a_later_one_is_named_out_of_order() -> None:
    verdict = check_history(0, history(("a", 1), ("a", 4), ("a", 2), ("a", 3)),
                            {"a": {1, 2, 3, 4}})
    assert verdict.reordered == [("cam", "a", 2, 4), ("cam", "a", 3, 4)]


def test_a_gap_at_an_instances_start_is_named() -> None:
    """Its first reports never arrived and nobody declared them dropped (E-22)."""
    verdict = check_history(0, history(("a", 3), ("a", 4)), {"a": {3, 4}})
    assert verdict.gaps == [("a", 1, 2)] and not verdict.ok


def test_a_drop_declared_by_one_instance_does_not_excuse_another_instances_gap() -> None:
    declared = Seen(f"{2:024d}", "cam", "a", 4, "event", WARNING,
                    details=(("first_dropped", "2"), ("last_dropped", "3")))
    seen = [*history(("a", 1)), declared, *history(("b", 1), ("b", 4), start=3)]
    verdict = check_history(0, seen, {"a": {1, 4}, "b": {1, 4}})
    assert verdict.gaps == [("b", 2, 3)]


def test_a_cursor_repeated_is_named() -> None:
    """E-11: cursors are unique and rise; two envelopes with one cursor are an error."""
    repeated = [*history(("a", 1)), Seen(f"{1:024d}", "cam", "a", 2, "event")]
    verdict = check_history(0, repeated, {"a": {1, 2}})
    assert verdict.cursors and not verdict.ok
