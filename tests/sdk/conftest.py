"""Fixtures of the SDK tests: a runtime behind grpc_testing, and the example as a process."""

from __future__ import annotations

import collections.abc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc
import grpc_testing
import pytest

from mediagrid import sdk
from mediagrid.sdk.servicers import (
    ConfigServicer,
    EntityServicer,
    ModuleServicer,
    PipelineServicer,
)
from mediagrid.sdk.testing import LoopThread, SyncAdapter
from mediagrid.v1 import (
    config_pb2,
    entity_pb2,
    module_pb2,
    module_pb2_grpc,
    pipeline_pb2,
)
from tests.sdk.modules import make_module
from tests.support import ROOT, free_port

HELLO = ROOT / "examples" / "python" / "hello"
SERVICES = {
    "ModuleService": module_pb2.DESCRIPTOR.services_by_name["ModuleService"],
    "EntityService": entity_pb2.DESCRIPTOR.services_by_name["EntityService"],
    "PipelineService": pipeline_pb2.DESCRIPTOR.services_by_name["PipelineService"],
    "ConfigurableModuleService":
        config_pb2.DESCRIPTOR.services_by_name["ConfigurableModuleService"],
}


class Harness:
    """A module runtime whose servicers run under grpc_testing (no sockets)."""

    def __init__(self, loop: LoopThread, runtime: sdk.ModuleRuntime) -> None:
        self.loop, self.rt = loop, runtime
        self.shutdowns: list[tuple[float, str]] = []
        servicers: dict[Any, Any] = {
            SERVICES["ModuleService"]: ModuleServicer(runtime, self._shutdown),
            SERVICES["EntityService"]: EntityServicer(runtime),
            SERVICES["PipelineService"]: PipelineServicer(runtime),
        }
        if runtime.config is not None:
            servicers[SERVICES["ConfigurableModuleService"]] = ConfigServicer(runtime)
        self.server = grpc_testing.server_from_dictionary(
            {d: SyncAdapter(s, loop) for d, s in servicers.items()},
            grpc_testing.strict_real_time(),
        )

    def _shutdown(self, grace: float, reason: str) -> bool:
        self.shutdowns.append((grace, reason))
        return self.rt.begin_shutdown()

    def call(self, service: str, method: str, request: Any) -> tuple[Any, grpc.StatusCode, str]:
        descriptor = SERVICES[service].methods_by_name[method]
        rpc = self.server.invoke_unary_unary(descriptor, (), request, 10)
        response, _, code, details = rpc.termination()
        return response, code, details

    def ok(self, service: str, method: str, request: Any) -> Any:
        response, code, details = self.call(service, method, request)
        assert code is grpc.StatusCode.OK, f"{method}: {code} {details}"
        return response

    def fails(self, service: str, method: str, request: Any, code: grpc.StatusCode) -> str:
        _, got, details = self.call(service, method, request)
        assert got is code, f"{method}: expected {code}, got {got} {details}"
        return details

    def reports(self) -> list[Any]:
        return list(self.rt.reporter._queue)


@pytest.fixture
def loop_thread() -> collections.abc.Iterator[LoopThread]:
    with LoopThread() as loop:
        yield loop


class FakeClock:
    """A clock the test moves by hand: timing rules are checked exactly."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _harness(
    loop: LoopThread, configurable: bool = False, ready: bool = True,
    clock: FakeClock | None = None, module: sdk.Module | None = None,
) -> Harness:
    async def build() -> sdk.ModuleRuntime:
        runtime = sdk.ModuleRuntime(module or make_module(configurable),
                                    clock=clock or FakeClock())
        if ready:
            await runtime.start()
        return runtime

    return Harness(loop, loop.run(build()))


@pytest.fixture
def harness(loop_thread: LoopThread) -> Harness:
    return _harness(loop_thread)


@pytest.fixture
def make_harness(loop_thread: LoopThread) -> Any:
    return lambda **kw: _harness(loop_thread, **kw)


# -- the example module as a real process ----------------------------------------------------
class ModuleProcess:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process, self.port = process, port
        self.address = f"127.0.0.1:{port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def stderr(self) -> str:
        assert self.process.stderr is not None
        return self.process.stderr.read()


def start_module(
    script: Path, port: int, extra_env: dict[str, str] | None = None, wait_ready: bool = True
) -> ModuleProcess:
    env = {**os.environ, "GRPC_PORT": str(port), "MEDIAGRID_MODULE_ID": script.parent.name,
           **(extra_env or {})}  # rule H-23: the orchestrator always sets the module id
    process = subprocess.Popen(
        [sys.executable, script.name], cwd=script.parent, env=env, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    handle = ModuleProcess(process, port)
    if wait_ready:
        try:
            wait_ready_state(handle, extra_env or {})
        except BaseException:
            handle.stop()
            raise
    return handle


def wait_ready_state(handle: ModuleProcess, env: dict[str, str], timeout: float = 20.0) -> None:
    token = env.get("MEDIAGRID_TOKEN")
    metadata = (("authorization", f"Bearer {token}"),) if token else None
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(handle.address) as channel:
        stub = module_pb2_grpc.ModuleServiceStub(channel)
        while time.monotonic() < deadline:
            if handle.process.poll() is not None:
                raise AssertionError(f"module exited {handle.process.returncode}: "
                                     f"{handle.stderr()}")
            try:
                reply = stub.HealthCheck(module_pb2.HealthCheckRequest(), timeout=1,
                                         metadata=metadata)
                if reply.status.state == module_pb2.MODULE_STATE_READY:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.05)
    raise AssertionError(f"module on {handle.address} not READY within {timeout} s")


@pytest.fixture
def run_module() -> collections.abc.Iterator[Any]:
    started: list[ModuleProcess] = []

    def run(script: Path = HELLO / "module.py", **kw: Any) -> ModuleProcess:
        handle = start_module(script, kw.pop("port", None) or free_port(), **kw)
        started.append(handle)
        return handle

    yield run
    for handle in started:
        handle.stop()
