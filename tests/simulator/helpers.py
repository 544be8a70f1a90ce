"""Helpers of the simulator's tests: a simulated module as a real process, driven with plain
(blocking) gRPC calls, and the files it writes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import json_format, struct_pb2

from mediagrid.simulator.module import journal as journal_mod
from mediagrid.v1 import entity_pb2, entity_pb2_grpc, module_pb2, module_pb2_grpc
from tests.support import free_port, wait_until

READY, STARTING, ERROR = (module_pb2.MODULE_STATE_READY, module_pb2.MODULE_STATE_STARTING,
                          module_pb2.MODULE_STATE_ERROR)


class Sim:
    """`python -m mediagrid.simulator.module scenario.yaml` on a free port."""

    def __init__(self, folder: Path, scenario: Mapping[str, Any] | None = None, *,
                 module_id: str = "sim-t", env: Mapping[str, str] | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.module_id = folder, module_id
        self.scenario_path = folder / "scenario.yaml"
        self.scenario_path.write_text(yaml.safe_dump(dict(scenario or {})))
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.journal_dir = folder / "journal"
        self.log = folder / "module.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mediagrid.simulator.module", str(self.scenario_path)],
                env={**os.environ, "GRPC_PORT": str(self.port), "MEDIAGRID_MODULE_ID": module_id,
                     "MEDIAGRID_SIM_JOURNAL": str(self.journal_dir), **(env or {})},
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder)
        self.channel = grpc.insecure_channel(self.address)
        self.module = module_pb2_grpc.ModuleServiceStub(self.channel)
        self.entities = entity_pb2_grpc.EntityServiceStub(self.channel)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def health(self, timeout: float = 2.0) -> module_pb2.HealthCheckResponse:
        return self.module.HealthCheck(module_pb2.HealthCheckRequest(), timeout=timeout)

    def state(self) -> int | None:
        with contextlib.suppress(grpc.RpcError):
            return self.health().status.state
        return None

    def wait_state(self, state: int, within: float = 20.0) -> None:
        assert wait_until(lambda: self.state() == state, within, 0.05), (
            f"not {module_pb2.ModuleState.Name(state)} within {within} s:\n{self.output()}")

    def create(self, entity_id: str, entity_type: str = "camera", timeout: float = 5.0,
               media_type: int = 0) -> entity_pb2.CreateEntityResponse:
        return self.entities.CreateEntity(entity_pb2.CreateEntityRequest(
            entity_type=entity_type, entity_id=entity_id, media_type=media_type),
            timeout=timeout)

    def control(self, method: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        call = self.channel.unary_unary(
            f"/mediagrid.simulator.v1.SimulatorControl/{method}",
            request_serializer=struct_pb2.Struct.SerializeToString,
            response_deserializer=struct_pb2.Struct.FromString)
        request = struct_pb2.Struct()
        request.update(dict(body or {}))
        return json_format.MessageToDict(call(request, timeout=5))

    def journal(self) -> list[dict[str, Any]]:
        return list(journal_mod.read(self.journal_dir / f"{self.module_id}.jsonl"))

    def wait_exit(self, within: float = 20.0) -> int:
        return self.proc.wait(within)

    def stop(self) -> None:
        self.channel.close()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


@contextlib.contextmanager
def sim(folder: Path, scenario: Mapping[str, Any] | None = None, **kw: Any) -> Iterator[Sim]:
    module = Sim(folder, scenario, **kw)
    try:
        yield module
    finally:
        module.stop()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
