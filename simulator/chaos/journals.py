"""The ground truth of a chaos run, read from the journals its simulated modules and fault
proxies write (simulator/module/journal.py): what the orchestrator acknowledged to each
instance, which processes ran and which ports they held."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mediagrid.simulator.module.journal import read


@dataclass
class Journals:
    acked: dict[str, set[int]] = field(default_factory=dict)  # instance -> sequences
    lost: dict[str, set[int]] = field(default_factory=dict)  # thrown away (fault `lose`)
    module_of: dict[str, str] = field(default_factory=dict)  # instance -> module id
    pids: set[int] = field(default_factory=set)
    ports: set[int] = field(default_factory=set)
    proxies: dict[str, str] = field(default_factory=dict)  # module -> latest control address
    starts: dict[str, list[tuple[float, str, int]]] = field(default_factory=dict)
    crashes: dict[str, int] = field(default_factory=dict)

    @property
    def acked_count(self) -> int:
        return sum(len(s) for s in self.acked.values())

    def latest_pid(self, module_id: str) -> int:
        starts = self.starts.get(module_id, [])
        return starts[-1][2] if starts else 0


def read_journals(folder: Path) -> Journals:
    out = Journals()
    for path in sorted(folder.glob("*.jsonl")):
        if path.name.endswith(".proxy.jsonl"):
            module_id = path.name.removesuffix(".proxy.jsonl")
            for line in read(path):
                out.pids.add(int(line["pid"]))
                for address in (line.get("listen", ""), line.get("control", "")):
                    if address.rpartition(":")[2].isdigit():
                        out.ports.add(int(address.rpartition(":")[2]))
                out.proxies[module_id] = line["control"]
            continue
        module_id = path.name.removesuffix(".jsonl")
        for line in read(path):
            instance, kind = line.get("instance", ""), line.get("kind")
            out.module_of[instance] = module_id
            if kind == "start":
                out.pids.add(int(line["pid"]))
                out.ports.add(int(line["port"]))
                out.starts.setdefault(module_id, []).append((line["t"], instance, line["pid"]))
            elif kind in ("ack", "lost"):
                target = out.acked if kind == "ack" else out.lost
                target.setdefault(instance, set()).update(range(line["first"], line["last"] + 1))
            elif kind == "crash":
                out.crashes[module_id] = out.crashes.get(module_id, 0) + 1
    return out
