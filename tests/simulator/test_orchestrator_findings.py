"""Two reference orchestrator bugs the chaos runner found, each pinned by a test with
simulated modules under an orchestrator in the test's event loop:

- a connection removed while one of its modules is alive but in ERROR (its dependency
  flapping) stayed in that module until it restarted (mixed.yaml, seed 1);
- a network blip shorter than a health period cost a healthy module its restart, because
  gRPC's own reconnect backoff (1 s and growing) outlasted three health checks
  (slow-network.yaml).
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
from pathlib import Path

import yaml

from mediagrid.reference.orchestrator.modules import HEALTHY, READY, STARTING
from mediagrid.simulator.chaos.journals import read_journals
from mediagrid.simulator.fleet import module_document, write_module
from mediagrid.simulator.module import ControlClient
from mediagrid.simulator.module.journal import VARIABLE
from mediagrid.simulator.module.types import DEFAULT_TYPES
from mediagrid.simulator.proxy import ProxyClient
from mediagrid.v1 import common_pb2, entity_pb2, orchestrator_pb2
from tests.orchestrator.conftest import client, orchestrator, ready
from tests.support import eventually

op = orchestrator_pb2
VIDEO = common_pb2.MEDIA_TYPE_VIDEO
FAST = {"health_period": "300ms", "health_timeout": "300ms",
        "restart_backoff": {"initial": "100ms", "max": "1s"},
        "shutdown": {"rpc_grace": "1s", "term_grace": "1s"}}


def simulated(root: Path, module_id: str, *, proxied: bool = False,
              threshold: int = 3) -> None:
    write_module(root / module_id, module_document(
        module_id, DEFAULT_TYPES, proxied=proxied, env={VARIABLE: str(root.parent / "journal")},
        supervision={**FAST, "failure_threshold": threshold}), {"id": module_id})


def test_a_connection_removed_while_its_module_is_in_error_leaves_no_side_behind(
        tmp_path: Path) -> None:
    """... and the other half of that rule: a module that is not running (a new instance
    STARTING for ever after a crash) holds no side, so the removal does not wait on it."""
    mods = tmp_path / "mods"
    for module_id in ("src", "dst"):
        simulated(mods, module_id, threshold=20)  # ERROR for a while is no restart here

    async def main() -> None:
        async with orchestrator(tmp_path / "state.sqlite", mods, out=io.BytesIO()) as app:
            await ready(app)
            async with client(app) as stub:
                for module_id, kind in (("src", "camera"), ("dst", "recorder")):
                    await stub.CreateEntity(op.OrchestratorServiceCreateEntityRequest(
                        module_id=module_id, request=entity_pb2.CreateEntityRequest(
                            entity_type=kind, entity_id="e", media_type=VIDEO)), timeout=10)
                await stub.ConnectEntities(op.OrchestratorServiceConnectEntitiesRequest(
                    connection_id="c", media_type=VIDEO,
                    source=op.EntityRef(module_id="src", entity_id="e"),
                    target=op.EntityRef(module_id="dst", entity_id="e")), timeout=10)
                control = ControlClient(app.modules.get("src").view.address)
                try:  # src: READY for 50 ms, then its own state is ERROR for an hour
                    await control.set_faults({"health": {"flapping": {"up": "50ms",
                                                                      "down": "1h"}}})
                    await eventually(lambda: app.modules.get("src").view.state != READY, 10)

                    async def recover() -> None:
                        await asyncio.sleep(1.0)
                        await control.clear_faults()

                    back = asyncio.ensure_future(recover())
                    removed = await stub.DisconnectEntities(
                        op.OrchestratorServiceDisconnectEntitiesRequest(connection_id="c"),
                        timeout=10)
                    await back
                    assert removed.disconnected
                    state = await control.state()
                    assert state["state"] == "READY" and state["connections"] == []
                finally:
                    await control.close()
                await eventually(lambda: app.modules.get("src").view.state == READY, 10)
                await stub.ConnectEntities(op.OrchestratorServiceConnectEntitiesRequest(
                    connection_id="c2", media_type=VIDEO,
                    source=op.EntityRef(module_id="src", entity_id="e"),
                    target=op.EntityRef(module_id="dst", entity_id="e")), timeout=10)
                dst = app.modules.get("dst").view
                (mods / "dst" / "scenario.yaml").write_text(yaml.safe_dump(
                    {"id": "dst", "start": {"never_ready": True}}))
                crashed = dst.pid
                os.kill(crashed, signal.SIGKILL)
                await eventually(lambda: dst.state == STARTING and dst.pid != crashed, 10)
                # no deadline of the caller's: the orchestrator's call_timeout (30 s) applies,
                # and waiting on dst would take all of it; nothing is there to wait for
                removed = await asyncio.wait_for(stub.DisconnectEntities(
                    op.OrchestratorServiceDisconnectEntitiesRequest(connection_id="c2")), 10)
                assert removed.disconnected

    asyncio.run(main())


def test_a_network_blip_shorter_than_a_health_period_is_no_restart(tmp_path: Path) -> None:
    mods = tmp_path / "mods"
    simulated(mods, "cam", proxied=True)

    async def main() -> None:
        async with orchestrator(tmp_path / "state.sqlite", mods, out=io.BytesIO()) as app:
            await ready(app)
            view = app.modules.get("cam").view
            proxy = ProxyClient(read_journals(tmp_path / "journal").proxies["cam"])
            await proxy.set_enabled("module", False)  # the network to it is down ...
            await eventually(lambda: view.health != HEALTHY, 5)
            await asyncio.sleep(0.3)
            await proxy.set_enabled("module", True)  # ... for 300 ms
            await eventually(lambda: view.state == READY and view.health == HEALTHY, 10)
            await asyncio.sleep(1.0)  # three health checks later: still the same process
            assert view.restart_count == 0 and view.health == HEALTHY

    asyncio.run(main())
