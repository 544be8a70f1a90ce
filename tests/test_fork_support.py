"""Children spawned with die_with_parent_preexec from a process busy with gRPC must not crash
before they exec (gRPC's at-fork hooks, run because of preexec_fn, used to SIGSEGV about one
child in six; importing mediagrid turns gRPC's fork support off)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import asyncio, sys
import mediagrid  # first, as every mediagrid program does
import grpc
from mediagrid.process import die_with_parent_preexec
from mediagrid.v1 import module_pb2, module_pb2_grpc

class Health(module_pb2_grpc.ModuleServiceServicer):
    async def HealthCheck(self, request, context):
        return module_pb2.HealthCheckResponse()

async def main():
    server = grpc.aio.server()
    module_pb2_grpc.add_ModuleServiceServicer_to_server(Health(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    stub = module_pb2_grpc.ModuleServiceStub(grpc.aio.insecure_channel(f"127.0.0.1:{port}"))
    busy = True
    async def hammer():
        while busy:
            await stub.HealthCheck(module_pb2.HealthCheckRequest())
    callers = [asyncio.create_task(hammer()) for _ in range(4)]
    codes = []
    for _ in range(60):
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-S", "-c", "pass", preexec_fn=die_with_parent_preexec(),
            start_new_session=True)
        codes.append(await child.wait())
    busy = False
    await asyncio.gather(*callers, return_exceptions=True)
    print(sum(code != 0 for code in codes))

asyncio.run(main())
"""


def test_children_of_a_busy_grpc_process_do_not_crash_before_exec() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0", f"children crashed: {done.stdout} {done.stderr[-2000:]}"
