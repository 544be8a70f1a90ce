"""The bus's pure parts, exactly: buffer bounds, filters before buffering, settings, framing."""

from __future__ import annotations

from typing import Any

import pytest

from mediagrid.reference.orchestrator.events import EventSettings, ManualTimer, wire
from mediagrid.reference.orchestrator.events.fanout import Fanout
from mediagrid.reference.orchestrator.events.filters import KIND_EVENT, Filter, FilterKey
from mediagrid.reference.orchestrator.events.log import LogEntry
from mediagrid.reference.orchestrator.events.subscription import Subscription, Terms
from mediagrid.v1 import orchestrator_pb2
from tests.orchestrator.events.harness import report


def entry(position: int, module: str = "a") -> LogEntry:
    cursor = f"{position:016x}0000abcd"
    data = report(position, module=module).SerializeToString()
    return LogEntry(position, cursor, FilterKey(module, KIND_EVENT, 11, 1, "", ""),
                    wire.envelope_frame(cursor, 5_000_000_123, data))


def subscription(capacity: int, flt: Filter | None = None) -> Subscription:
    terms = Terms("t", "peer", flt or Filter(), 100, capacity, 5.0, 100)
    return Subscription(terms, 0, "0000abcd", reader=Any, timer=ManualTimer(),  # type: ignore[arg-type]
                        head=lambda: 0, go_live=lambda _: None)


def test_e15_the_buffer_holds_exactly_its_capacity_and_one_more_lags() -> None:
    fanout = Fanout()
    sub = subscription(3)
    fanout.add(sub)
    fanout.publish([entry(1), entry(2)])
    fanout.publish([entry(3)])
    assert [e.position for e in sub.buffer] == [1, 2, 3] and not sub.lagged
    fanout.publish([entry(4)])
    assert sub.lagged and not sub.buffer and len(fanout) == 0 and fanout.lagged == 1
    fanout.publish([entry(5)])  # no longer offered anything
    assert sub.position == 3


def test_e18_envelopes_filtered_out_neither_fill_the_buffer_nor_lag_but_move_the_cursor() -> None:
    fanout = Fanout()
    picky, everyone = subscription(2, Filter(modules=frozenset({"b"}))), subscription(2)
    fanout.add(picky)
    fanout.add(everyone)
    fanout.publish([entry(1, "a"), entry(2, "b")])
    fanout.publish([entry(3, "a"), entry(4, "a")])
    assert everyone.lagged and not picky.lagged
    assert [e.position for e in picky.buffer] == [2]
    assert picky.position == 4  # a bookmark now would resume after envelope 4


def test_offers_below_the_subscribers_position_are_never_buffered_twice() -> None:
    sub = subscription(10)
    sub.position = 2  # it read 1 and 2 from the log while catching up
    assert sub.offer([entry(1), entry(2), entry(3)], 3)
    assert [e.position for e in sub.buffer] == [3]
    assert sub.offer([entry(3)], 3) and len(sub.buffer) == 1


def test_a_frame_is_the_envelope_a_subscriber_parses() -> None:
    e = entry(42)
    envelope = wire.envelope(e.frame)
    assert envelope.cursor == e.cursor
    assert envelope.received_at.ToNanoseconds() == 5_000_000_123
    assert envelope.report == report(42, module="a")
    message = wire.batch_message([entry(1).frame, e.frame], e.cursor)
    expected = orchestrator_pb2.SubscribeToEventsResponse(
        envelopes=[wire.envelope(entry(1).frame), envelope], resume_cursor=e.cursor)
    assert message == expected


@pytest.mark.parametrize(("setting", "value", "words"), [
    ("retain_envelopes", 0, "retain_envelopes must be above 0"),
    ("subscriber_buffer", 2.5, "subscriber_buffer must be a whole number"),
    ("bookmark_interval", float("nan"), "bookmark_interval must be a number"),
    ("max_subscribers", True, "max_subscribers must be a number"),
    ("synchronous", "off", "synchronous must be one of NORMAL, FULL, EXTRA"),
])
def test_a_bad_setting_is_named_with_what_it_must_be(setting: str, value: Any,
                                                     words: str) -> None:
    with pytest.raises(ValueError, match=words):
        EventSettings(**{setting: value})


def test_settings_take_the_contract_defaults() -> None:
    s = EventSettings(synchronous="full")
    assert (s.retain_envelopes, s.retain_seconds, s.subscriber_buffer, s.bookmark_interval,
            s.max_subscribers, s.synchronous) == (100_000, 86_400, 10_000, 5.0, 64, "FULL")
