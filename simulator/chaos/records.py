"""The record of every fault of a run: its classification, observed against expected, and
its times to detect, to READY and to converge (observe.py says how each is read)."""

from __future__ import annotations

import time

from mediagrid.simulator.chaos.nemesis import Injected
from mediagrid.simulator.chaos.observe import FaultRecord, ModuleEvents, classify, timings
from mediagrid.simulator.chaos.scenario import ChaosScenario
from mediagrid.simulator.chaos.subscribers import Seen


def fault_records(scenario: ChaosScenario, injected: list[Injected], history: list[Seen],
                  final: dict[str, str], run_start: float,
                  converged: dict[tuple[int, str], float]) -> list[FaultRecord]:
    """One record per fault (and per module that must end in ERROR): its classification
    and times, from the orchestrator's events about the module and the convergence probes."""
    events = ModuleEvents.of(history)
    now = time.time()
    records: list[FaultRecord] = []
    for n, item in enumerate(injected):
        action = item.action
        if action.kind == "subscriber-churn":
            continue
        record = FaultRecord(action.label, action.kind, action.module, action.at,
                             action.expect, note=item.error)
        if item.error:
            record.observed = "not injected"
        elif action.kind == "orchestrator-restart":
            _restart_record(record, item, n, events, now, converged)
        else:
            later = [i.at for i in injected[n + 1:] if action.module in i.modules]
            end = min(later, default=now)
            window = events.between(action.module, item.at, end)
            record.observed = classify(window, final.get(action.module, "")
                                       if not later else "")
            record.detect, record.ready = timings(window, item.at)
            record.converge = converged.get((n, action.module))
        if not record.ok and not record.note:
            record.note = f"expected {record.expect}"
        records.append(record)
    for spec in scenario.modules:
        if spec.expect != "error":
            continue
        for module_id in spec.ids:
            window = events.between(module_id, run_start, now)
            record = FaultRecord(spec.fault or "crash loop", "module", module_id, 0.0,
                                 "error", observed=classify(window, final.get(module_id,
                                                                              "")))
            record.detect = timings(window, run_start)[0]
            records.append(record)
    return records

def _restart_record(record: FaultRecord, item: Injected, n: int, events: ModuleEvents,
                    now: float, converged: dict[tuple[int, str], float]) -> None:
    record.detect = item.serving_after
    observed, readies, converges = [], [], []
    for module_id in item.modules:
        window = events.between(module_id, item.at, now)
        observed.append((module_id, classify(window, "")))
        readies.append(timings(window, item.at)[1] or next(
            (e.at - item.at for e in window if e.detail("new_state") == "READY"), None))
        converges.append(converged.get((n, module_id)))
    odd = [f"{m}: {o}" for m, o in observed if o != "restarted"]
    record.observed = "restarted" if not odd else "partly"
    record.note = "; ".join(odd)
    record.ready = max(readies) if readies and None not in readies else None
    record.converge = max(converges) if converges and None not in converges else None
