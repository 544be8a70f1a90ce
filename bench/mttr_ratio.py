"""Mean time to recovery: a module holding 10 entities is SIGKILLed, and the orchestrator
restarts it and re-creates the 10 before it reports it READY (rules H-14, H-15).

The module is the example (examples/python/hello, an SDK module) with 10 testsrc entities
made through OrchestratorService. Each round, interleaved: a cold start of the same module
(spawn to READY, no entities: the floor any recovery pays) and a SIGKILL under a running
orchestrator, timed from the kill to the orchestrator noticing it (`detect_ms`, target < 100)
and to READY with all 10 back. The module's copy of module.yaml resets the restart backoff
after 1 s READY, so every kill is a first restart, made at once (H-16's default shape);
otherwise kills a second apart would measure the backoff policy, not the recovery.
Last line: `mttr_ratio: X`, the median recovery over the median cold start (target <= 1.3).

    python bench/mttr_ratio.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mediagrid  # noqa: E402, F401, I001 - before grpc: it turns gRPC's fork support off

import grpc  # noqa: E402
from mediagrid.manifest import load_manifest  # noqa: E402
from mediagrid.manifest.process import ModuleProcess  # noqa: E402
from mediagrid.process import free_port  # noqa: E402
from mediagrid.reference.orchestrator.app import Orchestrator  # noqa: E402
from mediagrid.reference.orchestrator.module_events import Notice  # noqa: E402
from mediagrid.reference.orchestrator.modules import ERROR, READY  # noqa: E402
from mediagrid.reference.orchestrator.settings import OrchestratorSettings  # noqa: E402
from mediagrid.v1 import entity_pb2, orchestrator_pb2, orchestrator_pb2_grpc  # noqa: E402

HELLO = ROOT / "examples" / "python" / "hello"
SUPERVISION = """
supervision:
  health_period: 200ms
  restart_backoff: {reset_after: 1s}
  give_up: {max_restarts: 1000, window: 1m}
"""


def prepare(folder: Path) -> Path:
    """A copy of the example whose restart backoff resets after 1 s READY."""
    module = folder / "modules" / "hello"
    shutil.copytree(HELLO, module, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = module / "module.yaml"
    manifest.write_text(manifest.read_text() + SUPERVISION)
    return module


async def cold_start(module: Path, sink: object) -> float:
    process = ModuleProcess(load_manifest(module), free_port(), out=sink)  # type: ignore[arg-type]
    started = time.monotonic()
    async with process:
        await process.wait_ready()
        took = time.monotonic() - started
    return took


async def measure(folder: Path, rounds: int) -> tuple[list[float], list[float], list[float]]:
    module = prepare(folder)
    devnull = open(os.devnull, "wb")  # noqa: ASYNC230 - the modules' chatter
    notices: list[Notice] = []
    back = asyncio.Event()

    def heard(notice: Notice) -> None:
        notices.append(notice)
        if notice.kind == "changed" and notice.state == READY:
            back.set()

    app = Orchestrator(OrchestratorSettings(module_dirs=(module.parent,), address="127.0.0.1:0",
                                            state_path=folder / "state.sqlite"), out=devnull)
    app.reporter.listeners.append(heard)
    await app.start()
    cold, recover, detect = [], [], []
    try:
        supervisor = app.modules.get("hello")
        await back.wait()
        async with grpc.aio.insecure_channel(app.address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            for n in range(10):
                await stub.CreateEntity(orchestrator_pb2.OrchestratorServiceCreateEntityRequest(
                    module_id="hello", request=entity_pb2.CreateEntityRequest(
                        entity_type="testsrc", entity_id=f"pattern-{n}",
                        config={"size": "320x240", "rate": "25"})))
            for _ in range(rounds):
                cold.append(await cold_start(module, devnull))
                await asyncio.sleep(1.5)  # READY for longer than reset_after
                notices.clear()
                back.clear()
                killed = time.monotonic()
                os.kill(supervisor.view.pid, signal.SIGKILL)
                await back.wait()
                noticed = next(n.at for n in notices if n.kind == "changed" and n.state == ERROR)
                returned = next(n.at for n in notices if n.kind == "changed" and n.state == READY)
                detect.append(noticed - killed)
                recover.append(returned - killed)
                listed = await stub.ListEntities(
                    orchestrator_pb2.OrchestratorServiceListEntitiesRequest(module_id="hello"))
                assert len(listed.entities) == 10, f"{len(listed.entities)} entities came back"
    finally:
        await app.stop()
        devnull.close()
    return cold, recover, detect


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mttr-") as folder:
        cold, recover, detect = asyncio.run(measure(Path(folder), args.rounds))
    ms = {name: [v * 1e3 for v in values]
          for name, values in (("cold start", cold), ("recovery", recover),
                               ("detection", detect))}
    for name, values in ms.items():
        print(f"{name:10s} median {statistics.median(values):8.1f} ms   min {min(values):8.1f}"
              f"   max {max(values):8.1f}   ({len(values)} samples)")
    print(f"{args.rounds} SIGKILLs of a module holding 10 entities; targets: detect_ms < 100,"
          " mttr_ratio <= 1.3")
    print(f"detect_ms: {statistics.median(ms['detection']):.1f}")
    print(f"mttr_ratio: {statistics.median(recover) / statistics.median(cold):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
