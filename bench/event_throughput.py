"""event_throughput: events/s delivered to each of 20 subscribers from 10 reporting modules.

Ten module processes, each an SDK EventReporter, report as fast as the orchestrator takes
their reports (batches as rule E-10 allows, never dropping one), while twenty subscribers (in
four processes) follow the stream from the live end. The orchestrator side is the event bus
with its durable log on (SQLite, WAL, synchronous=NORMAL: every report committed before it is
acknowledged), served alone by `python -m mediagrid.reference.orchestrator.events.serve`.

The same run, with the same processes, is made against a baseline: a bare grpc.aio server
that fans the same batches out to its subscribers without a log, deduplication, filters or
bounded buffers (bench/_event_roles.py). Rounds alternate baseline / bus.

Printed per round: events/s delivered to every subscriber (total events over the time from
"go" to the last subscriber's last envelope), the zero-loss zero-duplicate check (every
subscriber saw every module's sequences 1..N exactly once, in order; a subscriber cut off for
lagging, rule E-15, reconnects with its cursor as a real one would, and the check spans
its reconnects), how many such reconnects there were, and the p99 delivery
latency from the report being made in the module to its arrival at a subscriber (and from its
acceptance by the server). Last line: `event_throughput: <events/s>` of the bus (the median
over rounds). Target >= 10,000.

    python bench/event_throughput.py [--events 10000] [--rounds 1] [--max-batch 500]
    python bench/event_throughput.py --rate 5000     # latency below saturation
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mediagrid.process import die_with_parent_preexec, free_port  # noqa: E402

ROLES = Path(__file__).with_name("_event_roles.py")
MODULES, SUBSCRIBERS, SUBSCRIBER_PROCESSES = 10, 20, 4


def spawn(args: list[str], stdin: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, text=True,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        start_new_session=True, preexec_fn=die_with_parent_preexec(), cwd=ROOT)


def expect_line(proc: subprocess.Popen[str], prefix: str) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(prefix):
        raise RuntimeError(f"{proc.args}: expected {prefix!r}, got {line!r}")
    return line


def stop(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@dataclass
class Round:
    name: str
    rate: float
    ok: bool
    p99_made_ms: float
    p99_accepted_ms: float
    cpu_server: float
    lags: int

    def line(self) -> str:
        verdict = "zero loss, zero duplicates" if self.ok else "LOSS OR DUPLICATES"
        return (f"{self.name:8s} {self.rate:9.0f} events/s to each of {SUBSCRIBERS} subscribers"
                f"  p99 latency {self.p99_made_ms:7.1f} ms from made, "
                f"{self.p99_accepted_ms:6.1f} ms from accepted  [{verdict}]"
                f"  server CPU {self.cpu_server:.1f} s, {self.lags} lag reconnects")


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_round(name: str, events: int, max_batch: int, rate: float, tmp: Path) -> Round:
    port = free_port()
    address = f"127.0.0.1:{port}"
    if name == "bus":
        server = spawn(["-m", "mediagrid.reference.orchestrator.events.serve", "--state",
                        str(tmp / f"state-{port}.sqlite"), "--address", address])
    else:
        server = spawn([str(ROLES), "baseline", str(port)])
    procs = [server]
    try:
        expect_line(server, "ready on")
        total = MODULES * events
        subs = [spawn([str(ROLES), "subscribers", address,
                       str(SUBSCRIBERS // SUBSCRIBER_PROCESSES), str(total), str(max_batch)])
                for _ in range(SUBSCRIBER_PROCESSES)]
        procs += subs
        for proc in subs:
            expect_line(proc, "ready")
        modules = [spawn([str(ROLES), "module", address, f"bench-{m}", str(events),
                          str(rate / MODULES)], stdin=True) for m in range(MODULES)]
        procs += modules
        for proc in modules:
            expect_line(proc, "ready")
        cpu_before = server_cpu(server.pid)
        go = time.time()
        for proc in modules:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        streams = [s for proc in subs for s in json.loads(expect_line(proc, "["))]
        module_stats = [json.loads(expect_line(proc, "{")) for proc in modules]
        cpu = server_cpu(server.pid) - cpu_before
    finally:
        stop(procs)
    last = max(s["last_at"] for s in streams)
    ok = (all(s["count"] == total and s["wrong"] == 0 and s["instances"] == MODULES
              for s in streams)
          and all(m["dropped"] == 0 and m["flushed"] for m in module_stats))
    made = sorted(x for s in streams for x in s["made_latency"])
    accepted = sorted(x for s in streams for x in s["accepted_latency"])
    return Round(name, total / (last - go), ok, percentile(made, 99) * 1e3,
                 percentile(accepted, 99) * 1e3, cpu, sum(s["lags"] for s in streams))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000, help="events per module")
    parser.add_argument("--rounds", type=int, default=1, help="baseline/bus pairs")
    parser.add_argument("--max-batch", type=int, default=500,
                        help="subscribers' max_batch (1..500)")
    parser.add_argument("--rate", type=float, default=0,
                        help="total events/s the modules report at (default 0: as fast as "
                             "they can); a rate below the saturation point shows the latency "
                             "of the bus itself rather than of the queues in front of it")
    args = parser.parse_args()
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name in ("baseline", "bus"):
                done = run_round(name, args.events, args.max_batch, args.rate, Path(tmp))
                print(done.line(), flush=True)
                rounds.append(done)
    bus = [r for r in rounds if r.name == "bus"]
    base = [r for r in rounds if r.name == "baseline"]
    rate = statistics.median(r.rate for r in bus)
    ratio = rate / statistics.median(r.rate for r in base)
    ok = all(r.ok for r in rounds)
    pace = f"at {args.rate:.0f} events/s" if args.rate else "as fast as they can"
    print(f"{MODULES} modules x {args.events} events {pace}, {SUBSCRIBERS} subscribers, "
          f"max_batch {args.max_batch}; durable log on; target >= 10000 events/s")
    made = statistics.median(r.p99_made_ms for r in bus)
    accepted = statistics.median(r.p99_accepted_ms for r in bus)
    print(f"bus / baseline: {ratio:.2f}; bus p99 delivery latency {made:.1f} ms from the "
          f"report being made, {accepted:.1f} ms from its acceptance")
    print(f"zero loss, zero duplicates: {'yes' if ok else 'NO'}")
    print(f"event_throughput: {rate:.0f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
