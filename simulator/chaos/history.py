"""The event history checker, in the manner of Jepsen's: what each subscriber received,
checked against the ground truth of what the orchestrator acknowledged to the modules (their
journals). For every subscriber:

- lost: an acknowledged report it never received (rule E-4: exactly once into the stream);
- duplicated: a report (instance, sequence) it received twice (E-4, E-12 across reconnects);
- reordered: a report received after a later one of the same instance (E-2, E-11);
- gaps: a sequence number missing between two received ones that no WARNING of E-22 declared
  (and that the module did not throw away on purpose, the `lose` fault: `excused`);
- cursors: a cursor not above the one before it (E-11, E-12).

Sequences are per instance: a module's instance numbers its reports 1, 2, 3 ...; the
orchestrator's own envelopes (E-17) are numbered per orchestrator instance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mediagrid.simulator.chaos.subscribers import Seen
from mediagrid.v1 import event_pb2

Ranges = Mapping[str, set[int]]  # instance -> sequence numbers


@dataclass
class HistoryVerdict:
    subscriber: int
    received: int = 0
    lost: list[tuple[str, str, int]] = field(default_factory=list)  # (module, instance, seq)
    duplicated: list[tuple[str, str, int]] = field(default_factory=list)
    reordered: list[tuple[str, str, int, int]] = field(default_factory=list)  # (.., seq, after)
    gaps: list[tuple[str, int, int]] = field(default_factory=list)  # (instance, first, last)
    excused: int = 0  # missing numbers the module threw away on purpose (fault `lose`)
    cursors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.reordered or self.gaps
                    or self.cursors)

    def summary(self) -> str:
        parts = [f"{len(self.lost)} lost", f"{len(self.duplicated)} duplicated",
                 f"{len(self.reordered)} out of order", f"{len(self.gaps)} undeclared gaps"]
        if self.cursors:
            parts.append(f"{len(self.cursors)} cursor errors")
        return ", ".join(parts)


def declared_drops(history: Iterable[Seen]) -> dict[str, set[int]]:
    """Sequence numbers each instance declared dropped (E-22 WARNINGs)."""
    out: dict[str, set[int]] = {}
    for item in history:
        if item.type == event_pb2.EVENT_TYPE_WARNING and item.detail("first_dropped"):
            try:
                first, last = int(item.detail("first_dropped")), int(item.detail("last_dropped"))
            except ValueError:
                continue
            out.setdefault(item.instance, set()).update(range(first, last + 1))
    return out


def check_history(subscriber: int, history: list[Seen], acked: Ranges,
                  excused: Ranges | None = None,
                  modules: Mapping[str, str] | None = None) -> HistoryVerdict:
    """`acked`: what the orchestrator acknowledged, by instance; `modules`: instance -> module
    id, to name them."""
    excused = excused or {}
    verdict = HistoryVerdict(subscriber, received=len(history))
    names = dict(modules or {})
    highest: dict[str, int] = {}
    received: dict[str, set[int]] = {}
    last_cursor = ""
    for item in history:
        names.setdefault(item.instance, item.module)
        if item.cursor <= last_cursor:
            verdict.cursors.append(f"{item.cursor} came after {last_cursor}")
        last_cursor = max(last_cursor, item.cursor)
        got = received.setdefault(item.instance, set())
        if item.sequence in got:
            verdict.duplicated.append((item.module, item.instance, item.sequence))
        elif item.sequence < highest.get(item.instance, 0):
            verdict.reordered.append((item.module, item.instance, item.sequence,
                                      highest[item.instance]))
        got.add(item.sequence)
        highest[item.instance] = max(highest.get(item.instance, 0), item.sequence)
    for instance, sequences in acked.items():
        for sequence in sorted(sequences - received.get(instance, set())):
            verdict.lost.append((names.get(instance, "?"), instance, sequence))
    declared = declared_drops(history)
    for instance, got in received.items():
        missing = set(range(1, max(got) + 1)) - got - declared.get(instance, set()) - \
            set(acked.get(instance, ()))  # acknowledged ones missing are `lost` already
        on_purpose = missing & excused.get(instance, set())
        verdict.excused += len(on_purpose)
        verdict.gaps += [(instance, a, b) for a, b in _runs(sorted(missing - on_purpose))]
    return verdict


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs
