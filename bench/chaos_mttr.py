"""Mean time to recovery under chaos: 50 SIGKILLs of simulated modules holding 10 entities
each; time from the kill to the module holding its 10 entities again (converged, read from
the simulated module itself through its control RPC), p50 and p95, over the cold start of the
same simulated module (spawn to READY, nothing to re-create) measured in the same run.

The reference orchestrator runs in this process, with five simulated modules (the default
scenario: well-behaved) under its default supervision, except that the restart backoff resets
after 1 s READY, so every kill is a first restart, made at once (H-16's shape), and give-up
is out of reach. Kills go round the modules, a second and a half apart.
Last line: `chaos_mttr: X`, the p50 time to converge over the p50 cold start.

    python bench/chaos_mttr.py [--kills 50] [--modules 5] [--entities 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
from mediagrid.reference.orchestrator.modules import READY  # noqa: E402
from mediagrid.reference.orchestrator.settings import OrchestratorSettings  # noqa: E402
from mediagrid.simulator.chaos.report import percentile  # noqa: E402
from mediagrid.simulator.fleet import module_document, write_module  # noqa: E402
from mediagrid.simulator.module import ControlClient  # noqa: E402
from mediagrid.simulator.module.types import DEFAULT_TYPES  # noqa: E402
from mediagrid.v1 import entity_pb2, orchestrator_pb2, orchestrator_pb2_grpc  # noqa: E402

SUPERVISION = {"restart_backoff": {"reset_after": "1s"},
               "give_up": {"max_restarts": 1000, "window": "1m"}}


def write(folder: Path, count: int) -> list[str]:
    ids = [f"sim-{n}" for n in range(count)]
    for module_id in ids:
        write_module(folder / module_id, module_document(module_id, DEFAULT_TYPES,
                                                         supervision=SUPERVISION),
                     {"id": module_id})
    return ids


async def cold_start(folder: Path, sink: object) -> float:
    process = ModuleProcess(load_manifest(folder), free_port(), out=sink)  # type: ignore[arg-type]
    started = time.monotonic()
    async with process:
        await process.wait_ready()
        return time.monotonic() - started


async def converged(app: Orchestrator, module_id: str, old: str, entities: int) -> None:
    """Until a new instance of the module holds all its entities (polled every 10 ms)."""
    while True:
        view = app.modules.get(module_id).view
        if view.state == READY and view.instance_id and view.instance_id != old:
            client = ControlClient(view.address)
            try:
                state = await client.state(deadline=1)
                if state["instance_id"] != old and len(state["entities"]) == entities:
                    return
            except grpc.RpcError:
                pass
            finally:
                await client.close()
        await asyncio.sleep(0.01)


async def measure(folder: Path, kills: int, count: int, entities: int,
                  ) -> tuple[list[float], list[float]]:
    ids = write(folder / "modules", count)
    devnull = open(os.devnull, "wb")  # noqa: ASYNC230 - the modules' chatter
    app = Orchestrator(OrchestratorSettings(module_dirs=(folder / "modules",),
                                            address="127.0.0.1:0",
                                            state_path=folder / "state.sqlite"), out=devnull)
    await app.start()
    cold: list[float] = []
    converge: list[float] = []
    try:
        while not all(app.modules.get(m).view.state == READY for m in ids):  # noqa: ASYNC110
            await asyncio.sleep(0.1)  # the views change in the orchestrator's tasks
        async with grpc.aio.insecure_channel(app.address) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            for module_id in ids:
                for n in range(entities):
                    await stub.CreateEntity(orchestrator_pb2.OrchestratorServiceCreateEntityRequest(
                        module_id=module_id, request=entity_pb2.CreateEntityRequest(
                            entity_type="camera", entity_id=f"cam-{n}",
                            config={"location": f"door {n}"})), timeout=30)
        for round_ in range(kills):
            if round_ % 5 == 0:
                cold.append(await cold_start(folder / "modules" / ids[0], devnull))
            module_id = ids[round_ % count]
            view = app.modules.get(module_id).view
            await asyncio.sleep(1.5)  # READY for longer than reset_after
            old, killed = view.instance_id, time.monotonic()
            os.killpg(os.getpgid(view.pid), signal.SIGKILL)
            await asyncio.wait_for(converged(app, module_id, old, entities), 60)
            converge.append(time.monotonic() - killed)
    finally:
        await app.stop()
        devnull.close()
    return cold, converge


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--modules", type=int, default=5)
    parser.add_argument("--entities", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chaos-mttr-") as folder:
        cold, converge = asyncio.run(measure(Path(folder), args.kills, args.modules,
                                             args.entities))
    ms = {"cold start": [v * 1e3 for v in cold], "converge": [v * 1e3 for v in converge]}
    for name, values in ms.items():
        print(f"{name:10s} p50 {percentile(values, 50):8.1f} ms   p95 {percentile(values, 95):8.1f}"
              f" ms   max {max(values):8.1f} ms   ({len(values)} samples)")
    p50, p95 = percentile(converge, 50), percentile(converge, 95)
    base = statistics.median(cold)
    print(f"{args.kills} SIGKILLs of simulated modules holding {args.entities} entities each;"
          f" time to converge over the module's cold start (p50 {base * 1e3:.0f} ms)")
    print(f"chaos_mttr_p95: {p95 / base:.3f}")
    print(f"chaos_mttr: {p50 / base:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
