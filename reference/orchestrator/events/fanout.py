"""Hands each commit's envelopes to every live subscription, at once and without waiting.

Called in the event loop right after a transaction committed. Each distinct filter is
evaluated once per commit (twenty subscribers with the same filter cost one pass), and each
subscription only appends to its own buffer: a full buffer cuts that subscriber off (rule
E-15) and never slows the modules or the other subscribers.
"""

from __future__ import annotations

import logging

from mediagrid.reference.orchestrator.events.filters import Filter
from mediagrid.reference.orchestrator.events.log import LogEntry
from mediagrid.reference.orchestrator.events.subscription import Subscription

log = logging.getLogger("mediagrid.orchestrator.events")


class Fanout:
    def __init__(self) -> None:
        self._live: dict[Subscription, None] = {}  # insertion-ordered set
        self.lagged = 0
        """Subscribers cut off for lagging so far."""

    def __len__(self) -> int:
        return len(self._live)

    def add(self, subscription: Subscription) -> None:
        self._live[subscription] = None

    def remove(self, subscription: Subscription) -> None:
        self._live.pop(subscription, None)

    def publish(self, entries: list[LogEntry]) -> None:
        last = entries[-1].position
        matched: dict[Filter, list[LogEntry]] = {}
        for sub in list(self._live):
            mine = matched.get(sub.filter)
            if mine is None:
                mine = matched[sub.filter] = [e for e in entries if sub.filter.match(e.key)]
            if not sub.offer(mine, last):
                self._live.pop(sub, None)
                if sub.lagged:
                    self.lagged += 1
                    log.warning(
                        "subscriber %r (%s) fell more than %d envelopes behind: sent LAGGED, "
                        "its stream ends with RESOURCE_EXHAUSTED (rule E-15)",
                        sub.terms.name, sub.terms.peer, sub.terms.capacity)
