"""The invariants a chaos run checks (docs/chaos.md); each verdict names what broke it:

- modules-ready: every module READY again, or in ERROR where the give-up rule (H-17) says;
- desired-state-converged: every module holds the entities (with their config), connections
  and flows the services were told exist, and every call of unknown outcome was resolved;
- event-history: every acknowledged report reached every subscriber exactly once, in
  per-instance order, with no undeclared gap, across orchestrator restarts and reconnects;
- no-orphans-no-leaked-ports: once the orchestrator stopped, no process of the run is alive
  and no port it held still listens;
- faults-classified: every fault classified as expected (slow: DEGRADED, hung: UNHEALTHY
  and restarted, crashed: restarted, crash loop: ERROR).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mediagrid.simulator.chaos.history import HistoryVerdict
    from mediagrid.simulator.chaos.observe import FaultRecord
    from mediagrid.simulator.chaos.scenario import ChaosScenario
    from mediagrid.simulator.chaos.subscribers import Subscriber
    from mediagrid.simulator.chaos.workload import Workload

NAMES = ("modules-ready", "desired-state-converged", "event-history",
         "no-orphans-no-leaked-ports", "faults-classified")


@dataclass
class Verdict:
    name: str
    ok: bool
    detail: str
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail,
                "problems": self.problems}


def verdict(name: str, problems: list[str], good: str) -> Verdict:
    shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5
                                       else "")
    return Verdict(name, not problems, good if not problems else shown, problems)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def listening(port: int, host: str = "127.0.0.1") -> bool:
    """Something accepts TCP connections on host:port."""
    with socket.socket() as sock:
        sock.settimeout(1.0)
        try:
            sock.connect((host, port))
        except OSError:
            return False
        return True


def group_members(groups: set[int]) -> dict[int, str]:
    """Live processes (pid -> command line) whose process group is one of `groups`."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[0] in ("Z", "X") or int(fields[2]) not in groups:
                continue
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(
                b"\0", b" ").decode(errors="replace").strip()[:120]
        except (OSError, IndexError, ValueError):
            continue
    return found


def leaks(pids: Iterable[int], ports: Iterable[int], groups: Iterable[int] = ()) -> list[str]:
    """What outlived the run: known processes, anything left in their process groups (a
    module's own children), and ports still listening."""
    known = set(pids)
    problems = [f"process {pid} is still alive" for pid in sorted(known) if alive(pid)]
    problems += [f"process {pid} ({command}) of a module's process group is still alive"
                 for pid, command in sorted(group_members(set(groups)).items())
                 if pid not in known]
    problems += [f"port {port} is still listening" for port in sorted(set(ports))
                 if listening(port)]
    return problems


def judge(scenario: ChaosScenario, final: dict[str, str], problems: list[str],
          workload: Workload, histories: list[HistoryVerdict], subscribers: list[Subscriber],
          caught_up: bool, leaked: list[str], records: list[FaultRecord]) -> list[Verdict]:
    """Every invariant's verdict from what the run saw."""
    not_ready = [f"module {m} is {final.get(m, 'absent')}, not"
                 f" {scenario.spec_of(m).expect.upper()}" for m in scenario.module_ids
                 if final.get(m) != scenario.spec_of(m).expect.upper()]
    desired = [p for p in problems if not p.startswith("module ")]
    if workload.stats.unresolved:
        desired.append(f"{workload.stats.unresolved} calls of unknown outcome could not"
                       " be resolved")
    history_problems = [f"subscriber {h.subscriber}: {h.summary()}" for h in histories
                        if not h.ok]
    history_problems += [f"subscriber {s.index}: {e}" for s in subscribers for e in s.errors]
    if not caught_up:
        history_problems.append("the subscribers did not receive every acknowledged report"
                                " within 20 s")
    classified = [f"{r.label} on {r.module or 'the orchestrator'} at {r.at:.1f} s:"
                  f" observed {r.observed}, expected {r.expect}" for r in records if not r.ok]
    total = sum(h.received for h in histories)
    return [
        verdict("modules-ready", not_ready, f"{len(final)} modules in their expected state"),
        verdict("desired-state-converged", desired,
                f"{len(workload.model.entities)} entities,"
                f" {len(workload.model.connections)} connections,"
                f" {sum(f.running for f in workload.model.flows.values())} running"
                " flows where the services left them"),
        verdict("event-history", history_problems,
                f"{total} envelopes over {len(histories)} subscribers: none lost,"
                " duplicated, out of order or missing"),
        verdict("no-orphans-no-leaked-ports", leaked, "every process gone, every port closed"),
        verdict("faults-classified", classified, f"{len(records)} faults, each as expected"),
    ]
