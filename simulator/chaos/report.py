"""The chaos run's report: the same data for people (rich tables) and scripts (JSON).

Per fault kind: how many, and the time to detect, to READY and to converge (p50, p95, max,
in milliseconds); reports lost and duplicated (must be 0); the classification of every
fault, observed against expected; the workload's calls; the invariants, each with a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from mediagrid.simulator.chaos.history import HistoryVerdict
from mediagrid.simulator.chaos.invariants import Verdict
from mediagrid.simulator.chaos.observe import FaultRecord


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def spread(values: Iterable[float | None]) -> dict[str, float] | None:
    """p50, p95, max in milliseconds, or None without samples."""
    samples = [v * 1000 for v in values if v is not None]
    if not samples:
        return None
    return {"p50": round(percentile(samples, 50), 1), "p95": round(percentile(samples, 95), 1),
            "max": round(max(samples), 1), "n": len(samples)}


@dataclass
class ChaosReport:
    scenario: str
    seed: int
    duration: float
    orchestrator: list[str]
    timeline: list[dict[str, Any]]
    faults: list[FaultRecord]
    histories: list[HistoryVerdict]
    invariants: list[Verdict]
    workload: dict[str, Any]
    acked: int
    converge_after_heal: float | None
    wall: float
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.invariants)

    @property
    def failed(self) -> list[str]:
        return [v.name for v in self.invariants if not v.ok]

    def by_kind(self) -> dict[str, dict[str, Any]]:
        kinds: dict[str, list[FaultRecord]] = {}
        for record in self.faults:
            kinds.setdefault(record.label, []).append(record)
        return {label: {"count": len(records),
                        "detect_ms": spread(r.detect for r in records),
                        "ready_ms": spread(r.ready for r in records),
                        "converge_ms": spread(r.converge for r in records)}
                for label, records in kinds.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "failed": self.failed, "scenario": self.scenario, "seed": self.seed,
            "duration_s": self.duration, "wall_s": round(self.wall, 1),
            "orchestrator": self.orchestrator, "timeline": self.timeline,
            "per_fault_kind": self.by_kind(),
            "faults": [{**asdict(r), "ok": r.ok} for r in self.faults],
            "events": {"acknowledged": self.acked,
                       "lost": sum(len(h.lost) for h in self.histories),
                       "duplicated": sum(len(h.duplicated) for h in self.histories),
                       "subscribers": [{"subscriber": h.subscriber, "received": h.received,
                                        "lost": len(h.lost), "duplicated": len(h.duplicated),
                                        "reordered": len(h.reordered), "gaps": h.gaps,
                                        "excused": h.excused, "cursor_errors": h.cursors,
                                        "lost_examples": h.lost[:10]}
                                       for h in self.histories]},
            "workload": self.workload,
            "converge_after_heal_s": None if self.converge_after_heal is None else round(
                self.converge_after_heal, 3),
            "invariants": [v.to_dict() for v in self.invariants], "notes": self.notes,
        }

    def show(self, out: Console) -> None:
        out.print(f"\n[bold]chaos report[/] — scenario [bold]{self.scenario}[/], seed"
                  f" {self.seed}, nemesis {self.duration:g} s, wall {self.wall:.0f} s;"
                  f" {len(self.timeline)} faults planned")
        kinds = Table(title="recovery per fault kind (ms: p50 / p95 / max)")
        for column in ("fault kind", "n", "detect", "READY", "converge"):
            kinds.add_column(column, justify="right" if column != "fault kind" else "left")
        for label, row in self.by_kind().items():
            kinds.add_row(label, str(row["count"]), *(_ms(row[k]) for k in
                                                      ("detect_ms", "ready_ms", "converge_ms")))
        out.print(kinds)
        table = Table(title="faults: observed against expected")
        for column in ("t (s)", "fault", "module", "expected", "observed", ""):
            table.add_column(column)
        for record in self.faults:
            table.add_row(f"{record.at:.1f}", record.label, record.module or "(all)",
                          record.expect, record.observed,
                          "[green]ok[/]" if record.ok else f"[red]✗[/] {record.note}")
        out.print(table)
        events = Table(title=f"event history: {self.acked} reports acknowledged to the modules")
        for column in ("subscriber", "received", "lost", "duplicated", "out of order",
                       "undeclared gaps"):
            events.add_column(column, justify="right")
        for h in self.histories:
            events.add_row(str(h.subscriber), str(h.received), str(len(h.lost)),
                           str(len(h.duplicated)), str(len(h.reordered)), str(len(h.gaps)))
        out.print(events)
        w = self.workload
        out.print(f"workload: {w['ok']} calls ok, {w['fail']} refused, {w['info']} of unknown"
                  f" outcome ({w['resolved']} resolved after healing, {w['unresolved']} not)")
        if self.converge_after_heal is not None:
            out.print(f"desired state converged {self.converge_after_heal:.2f} s after healing")
        verdicts = Table(title="invariants")
        verdicts.add_column("invariant")
        verdicts.add_column("")
        verdicts.add_column("detail")
        for v in self.invariants:
            verdicts.add_row(v.name, "[green]holds[/]" if v.ok else "[red]BROKEN[/]", v.detail)
        out.print(verdicts)
        for note in self.notes:
            out.print(f"[dim]{note}[/]")
        if self.ok:
            out.print("[bold green]PASS[/]: every invariant holds")
        else:
            out.print(f"[bold red]FAIL[/]: {', '.join(self.failed)}")


def _ms(row: dict[str, float] | None) -> str:
    if row is None:
        return "—"
    return f"{row['p50']:.0f} / {row['p95']:.0f} / {row['max']:.0f}"
