"""Helpers of the orchestrator tests: module.yaml files for the faulty test module, and an
orchestrator running in the test's own event loop with short supervision settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

import grpc
import yaml

from mediagrid.reference.orchestrator.app import Orchestrator
from mediagrid.reference.orchestrator.modules import READY
from mediagrid.reference.orchestrator.settings import OrchestratorSettings
from mediagrid.v1 import entity_pb2, entity_pb2_grpc, orchestrator_pb2, orchestrator_pb2_grpc
from tests.orchestrator.standin import StandInBus
from tests.support import eventually

T = TypeVar("T")
FAULTY = Path(__file__).with_name("faulty.py")
TYPES = {
    "thing": {"type": "thing", "kind": "source", "media_types": ["video"],
              "protocols": ["mpegts-udp"], "config": {"type": "object"}},
    "sink": {"type": "sink", "kind": "sink", "media_types": ["video"],
             "protocols": ["mpegts-udp"]},
    "fault": {"type": "fault", "kind": "source", "media_types": ["video"],
              "config": {"type": "object"}},
}
# Short supervision settings, so failures are noticed and acted on in a fraction of a second.
FAST: dict[str, Any] = {
    "startup_timeout": "20s", "health_period": "300ms", "health_timeout": "300ms",
    "failure_threshold": 3,
    "restart_backoff": {"initial": "50ms", "multiplier": 2, "max": "200ms", "jitter": 0},
    "shutdown": {"rpc_grace": "2s", "term_grace": "2s"},
}


def write_module(root: Path, module_id: str, *, types: tuple[str, ...] = ("thing", "sink",
                                                                         "fault"),
                 supervision: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None, args: tuple[str, ...] = ()) -> Path:
    """A module.yaml for faulty.py in root/module_id; returns the folder."""
    folder = root / module_id
    folder.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "id": module_id, "version": "0.0.1",
        "command": ["{python}", str(FAULTY), "module.yaml", *args],
        "entity_types": [TYPES[t] for t in types],
        "supervision": {**FAST, **(supervision or {})},
    }
    if env:
        document["env"] = dict(env)
    (folder / "module.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return folder


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@contextlib.asynccontextmanager
async def orchestrator(state: Path, *module_dirs: Path, bus: Any = None, out: Any = None,
                       **settings: Any) -> AsyncIterator[Orchestrator]:
    """An orchestrator on a free loopback port, stopped (every module by the ladder) after.
    `bus` None: a StandInBus (app.bus.published lists what it published); "real": the
    durable event log in the state file, as `mediagrid up` has."""
    settings.setdefault("address", "127.0.0.1:0")
    app = Orchestrator(OrchestratorSettings(module_dirs=module_dirs, state_path=state,
                                            **settings),
                       bus=None if bus == "real" else bus or StandInBus(), out=out)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


@contextlib.asynccontextmanager
async def client(app: Orchestrator) -> AsyncIterator[orchestrator_pb2_grpc.OrchestratorServiceStub]:
    async with grpc.aio.insecure_channel(app.address) as channel:
        yield orchestrator_pb2_grpc.OrchestratorServiceStub(channel)


@contextlib.asynccontextmanager
async def direct(address: str) -> AsyncIterator[entity_pb2_grpc.EntityServiceStub]:
    """The module itself, dialled at its address (as a service may do), to give it faults."""
    async with grpc.aio.insecure_channel(address) as channel:
        yield entity_pb2_grpc.EntityServiceStub(channel)


async def fault(address: str, action: str) -> None:
    """Tells faulty.py at `address` to crash, hang or exec (straight to the module: a fault is
    not desired state)."""
    async with direct(address) as stub:
        await stub.CreateEntity(entity_pb2.CreateEntityRequest(
            entity_type="fault", config={"action": action}), timeout=10)


async def ready(app: Orchestrator, *module_ids: str, within: float = 30.0) -> None:
    """Waits until every named module (all when none named) is READY."""
    ids = module_ids or tuple(s.id for s in app.modules)
    await eventually(lambda: all(app.modules.find(m) is not None and
                                 app.modules.get(m).view.state == READY for m in ids), within)


async def module_info(stub: orchestrator_pb2_grpc.OrchestratorServiceStub,
                      module_id: str) -> Any:
    return (await stub.GetModule(orchestrator_pb2.GetModuleRequest(module_id=module_id))).module
