"""Forwarding overhead: GetEntityStatus through the orchestrator over the same call through a
bare grpc.aio relay, p50, same run (issue 11; target <= 1.2).

The orchestrator (`mediagrid up`, a process) supervises the hello example module, which holds
one entity. The baseline is a bare grpc.aio relay, also a process, that forwards
EntityService.GetEntityStatus to the same module over one channel and does nothing else. One
client calls both in alternating rounds (the order flips every round) after a warm-up and
compares the medians of all calls. Last line: `forward_ratio: X`.

    python bench/forward_ratio.py [--rounds 20] [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _orchestrated import orchestrated  # noqa: E402

from mediagrid.process import free_port, stop_group  # noqa: E402
from mediagrid.v1 import (  # noqa: E402
    entity_pb2,
    entity_pb2_grpc,
    orchestrator_pb2,
    orchestrator_pb2_grpc,
)

op = orchestrator_pb2


async def relay(port: int, target: str) -> None:
    """The baseline: forwards GetEntityStatus to `target`, answer and status unchanged."""
    async with grpc.aio.insecure_channel(target) as channel:
        module = entity_pb2_grpc.EntityServiceStub(channel)

        class Relay(entity_pb2_grpc.EntityServiceServicer):
            async def GetEntityStatus(self, request, context):  # type: ignore[no-untyped-def]
                try:
                    return await module.GetEntityStatus(request,
                                                        timeout=context.time_remaining())
                except grpc.aio.AioRpcError as exc:
                    await context.abort(exc.code(), exc.details() or "")

        server = grpc.aio.server()
        entity_pb2_grpc.add_EntityServiceServicer_to_server(Relay(), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()


async def timed(call, request, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await call(request, timeout=5)
        out.append(time.perf_counter() - t0)
    return out


async def measure(orchestrator: str, relay_address: str, rounds: int, calls: int
                  ) -> tuple[float, float]:
    async with grpc.aio.insecure_channel(orchestrator) as a, \
            grpc.aio.insecure_channel(relay_address) as b:
        through = orchestrator_pb2_grpc.OrchestratorServiceStub(a).GetEntityStatus
        bare = entity_pb2_grpc.EntityServiceStub(b).GetEntityStatus
        status = entity_pb2.GetEntityStatusRequest(entity_id="pattern")
        wrapped = op.OrchestratorServiceGetEntityStatusRequest(module_id="hello", request=status)
        deadline = time.monotonic() + 30
        while True:  # the relay may still be starting
            try:
                await bare(status, timeout=1)
                break
            except grpc.aio.AioRpcError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        await timed(through, wrapped, calls)  # warm-up
        await timed(bare, status, calls)
        ours: list[float] = []
        base: list[float] = []
        for n in range(rounds):
            pair = [(through, wrapped, ours), (bare, status, base)]
            for call, request, into in pair if n % 2 == 0 else reversed(pair):
                into.extend(await timed(call, request, calls))
        return statistics.median(ours), statistics.median(base)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--relay", nargs=2, metavar=("PORT", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relay:
        asyncio.run(relay(int(args.relay[0]), args.relay[1]))
        return 0
    with orchestrated(ROOT / "examples" / "python", ready=1) as (stub, modules, orchestrator):
        request = op.OrchestratorServiceCreateEntityRequest(module_id="hello")
        request.request.entity_type, request.request.entity_id = "testsrc", "pattern"
        stub.CreateEntity(request, timeout=30)
        port = free_port()
        relay_process = subprocess.Popen(
            [sys.executable, __file__, "--relay", str(port), modules["hello"]],
            start_new_session=True, env=os.environ.copy())
        try:
            ours, base = asyncio.run(measure(orchestrator, f"127.0.0.1:{port}", args.rounds,
                                             args.calls))
        finally:
            stop_group(relay_process, 5)
    print(f"GetEntityStatus p50 through the orchestrator: {ours * 1e3:.3f} ms")
    print(f"GetEntityStatus p50 through a bare grpc.aio relay: {base * 1e3:.3f} ms")
    print(f"forward_ratio: {ours / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
