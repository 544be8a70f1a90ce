"""HealthCheck round trip: an SDK module vs. a bare grpc.aio server, same run, interleaved.

Both servers run as separate processes on loopback: the example module
(examples/python/hello, the full SDK: health, reflection, servicers) and a bare grpc.aio
server whose ModuleService.HealthCheck returns a constant response. One client calls each in
alternating rounds (the order flips every round, to cancel drift and noise) after a warm-up,
and compares the medians. Last line: `sdk_health_ratio: X` (target <= 1.15).

    python bench/sdk_health.py [--rounds 20] [--calls 250]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mediagrid.process import free_port  # noqa: E402
from mediagrid.v1 import module_pb2, module_pb2_grpc  # noqa: E402

HELLO = ROOT / "examples" / "python" / "hello" / "module.py"


async def serve_bare(port: int) -> None:
    """The baseline: a bare grpc.aio server answering HealthCheck with a constant."""
    reply = module_pb2.HealthCheckResponse(module_id="bare", version="0.1.0")
    reply.status.state = module_pb2.MODULE_STATE_READY

    class Bare(module_pb2_grpc.ModuleServiceServicer):
        async def HealthCheck(self, request, context):  # type: ignore[no-untyped-def]
            return reply

    server = grpc.aio.server()
    module_pb2_grpc.add_ModuleServiceServicer_to_server(Bare(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env={**os.environ, **env}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_up(stub: module_pb2_grpc.ModuleServiceStub) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            await stub.HealthCheck(module_pb2.HealthCheckRequest(), timeout=1)
            return
        except grpc.aio.AioRpcError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def timed_calls(stub: module_pb2_grpc.ModuleServiceStub, n: int) -> list[float]:
    request = module_pb2.HealthCheckRequest()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await stub.HealthCheck(request, timeout=5)
        out.append(time.perf_counter() - t0)
    return out


async def measure(sdk_port: int, bare_port: int, rounds: int, calls: int) -> float:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{sdk_port}") as a, \
            grpc.aio.insecure_channel(f"127.0.0.1:{bare_port}") as b:
        stubs = {"sdk": module_pb2_grpc.ModuleServiceStub(a),
                 "bare": module_pb2_grpc.ModuleServiceStub(b)}
        for stub in stubs.values():
            await wait_up(stub)
            await timed_calls(stub, 300)  # warm-up
        samples: dict[str, list[float]] = {"sdk": [], "bare": []}
        for r in range(rounds):
            order = ("sdk", "bare") if r % 2 == 0 else ("bare", "sdk")
            for name in order:
                samples[name] += await timed_calls(stubs[name], calls)
        p50 = {k: statistics.median(v) * 1e3 for k, v in samples.items()}
        p90 = {k: statistics.quantiles(v, n=10)[-1] * 1e3 for k, v in samples.items()}
        for name in ("sdk", "bare"):
            print(f"{name:5s} HealthCheck p50 {p50[name]:.3f} ms  p90 {p90[name]:.3f} ms"
                  f"  ({len(samples[name])} calls)")
        return p50["sdk"] / p50["bare"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--calls", type=int, default=250, help="calls per server per round")
    parser.add_argument("--bare", type=int, help=argparse.SUPPRESS)  # internal: serve baseline
    args = parser.parse_args()
    if args.bare:
        asyncio.run(serve_bare(args.bare))
        return 0
    sdk_port, bare_port = free_port(), free_port()
    procs = [
        start([sys.executable, str(HELLO)],
              {"GRPC_PORT": str(sdk_port), "MEDIAGRID_MODULE_ID": "hello"}),
        start([sys.executable, __file__, "--bare", str(bare_port)], {}),
    ]
    try:
        ratio = asyncio.run(measure(sdk_port, bare_port, args.rounds, args.calls))
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    print(f"rounds {args.rounds} x {args.calls} calls per server, interleaved; target <= 1.15")
    print(f"sdk_health_ratio: {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
