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


def leaks(pids: Iterable[int], ports: Iterable[int]) -> list[str]:
    problems = [f"process {pid} is still alive" for pid in sorted(set(pids)) if alive(pid)]
    problems += [f"port {port} is still listening" for port in sorted(set(ports))
                 if listening(port)]
    return problems
