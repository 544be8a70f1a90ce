"""The orchestrator's CPU while it supervises 100 idle SDK modules at a 1 s health period.

`mediagrid up` runs 100 copies of the example module (examples/python/hello, the SDK); once
all are READY and settled, the orchestrator's own CPU time (user + system, from /proc) is
measured over a window, as a percentage of one core. Baseline, same run, same modules: a bare
grpc.aio client that only calls HealthCheck on each module once a second (the least any
supervisor must do). Last line: `supervision_cpu: X` (percent of one core; target < 10).

    python bench/supervision_cpu.py [--modules 100] [--window 30]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mediagrid  # noqa: E402, F401, I001 - before grpc: it turns gRPC's fork support off

import grpc  # noqa: E402
from mediagrid.process import free_port  # noqa: E402
from mediagrid.v1 import module_pb2, orchestrator_pb2, orchestrator_pb2_grpc  # noqa: E402

HELLO = ROOT / "examples" / "python" / "hello"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def write_modules(folder: Path, count: int) -> None:
    manifest = (HELLO / "module.yaml").read_text()
    command = f'command: ["{{python}}", "{HELLO / "module.py"}"]'
    for n in range(count):
        module = folder / f"idle-{n:03d}"
        module.mkdir(parents=True)
        text = manifest.replace("id: hello", f"id: idle-{n:03d}").replace(
            'command: ["{python}", "module.py"]', command)
        (module / "module.yaml").write_text(text + "supervision:\n  startup_timeout: 5m\n")


def ready_modules(address: str) -> list[module_pb2.ModuleInfo]:
    with grpc.insecure_channel(address) as channel:
        stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
        request = orchestrator_pb2.ListModulesRequest()
        request.page.page_size = 1000
        modules = stub.ListModules(request, timeout=10).modules
    return [m for m in modules if m.status.state == module_pb2.MODULE_STATE_READY]


def measure(pid: int, window: float) -> float:
    """Percent of one core used by `pid` over `window` seconds."""
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(window)
    return 100 * (cpu_seconds(pid) - before) / (time.monotonic() - started)


def poll(addresses: list[str]) -> None:
    """The baseline: HealthCheck on every module once a second, nothing else."""
    import asyncio

    async def run() -> None:
        channels = [grpc.aio.insecure_channel(a) for a in addresses]
        stubs = [module_pb2_grpc.ModuleServiceStub(c) for c in channels]
        request = module_pb2.HealthCheckRequest()

        async def one(stub: module_pb2_grpc.ModuleServiceStub, offset: float) -> None:
            await asyncio.sleep(offset)
            while True:
                await stub.HealthCheck(request, timeout=0.5)
                await asyncio.sleep(1.0)
        await asyncio.gather(*(one(s, n / len(stubs)) for n, s in enumerate(stubs)))

    from mediagrid.v1 import module_pb2_grpc

    asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", type=int, default=100)
    parser.add_argument("--window", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--poll", nargs="*", help=argparse.SUPPRESS)  # internal: the baseline
    args = parser.parse_args()
    if args.poll is not None:
        poll(args.poll)
        return 0
    with tempfile.TemporaryDirectory(prefix="supervision-cpu-") as folder:
        modules = Path(folder) / "modules"
        write_modules(modules, args.modules)
        address = f"127.0.0.1:{free_port()}"
        up = subprocess.Popen(
            [sys.executable, "-m", "mediagrid.cli", "up", "--modules", str(modules),
             "--address", address, "--state", str(Path(folder) / "state.sqlite")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        poller = None
        try:
            started, ready = time.monotonic(), []
            while len(ready) < args.modules:
                if up.poll() is not None or time.monotonic() - started > 600:
                    raise SystemExit(f"only {len(ready)} of {args.modules} modules READY")
                time.sleep(2)
                try:
                    ready = ready_modules(address)
                except grpc.RpcError:
                    continue
            print(f"{args.modules} modules READY after {time.monotonic() - started:.0f} s")
            time.sleep(10)  # let the start-up settle
            orchestrator = measure(up.pid, args.window)
            poller = subprocess.Popen([sys.executable, __file__, "--poll",
                                       *(m.grpc_address for m in ready)],
                                      start_new_session=True)
            time.sleep(5)
            baseline = measure(poller.pid, args.window)
        finally:
            if poller is not None:
                os.killpg(poller.pid, signal.SIGKILL)
                poller.wait()
            os.killpg(up.pid, signal.SIGINT)  # the orchestrator stops its modules
            try:
                up.wait(180)
            except subprocess.TimeoutExpired:
                os.killpg(up.pid, signal.SIGKILL)
                up.wait()
    print(f"orchestrator: {orchestrator:.2f} % of one core over {args.window:g} s"
          f" ({args.modules} idle modules, health period 1 s)")
    print(f"bare HealthCheck poller, same modules: {baseline:.2f} %"
          f" (orchestrator / poller = {orchestrator / max(baseline, 0.01):.2f})")
    print("target: supervision_cpu < 10")
    print(f"supervision_cpu: {orchestrator:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
