"""Health checks of READY modules (H-13), a module restarted behind the orchestrator's back
(H-6 seen from the orchestrator, H-15), and E-17's health changes."""

from __future__ import annotations

from pathlib import Path

from mediagrid.v1 import entity_pb2, event_pb2, orchestrator_pb2
from tests.orchestrator.conftest import (
    client,
    direct,
    fault,
    module_info,
    orchestrator,
    ready,
    run,
    write_module,
)
from tests.support import eventually, group_gone

STATE_CHANGED = event_pb2.EVENT_TYPE_MODULE_STATE_CHANGED
RESTARTED = event_pb2.EVENT_TYPE_MODULE_RESTARTED


def test_h13_a_hung_module_turns_degraded_then_unhealthy_and_is_restarted(
        tmp_path: Path) -> None:
    write_module(tmp_path / "mods", "stuck", supervision={
        "health_period": "100ms", "health_timeout": "200ms", "failure_threshold": 3,
        "shutdown": {"rpc_grace": "300ms", "term_grace": "300ms"}})

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            await ready(app)
            supervisor = app.modules.get("stuck")
            old_pid, old_instance = supervisor.view.pid, supervisor.view.instance_id
            await fault(supervisor.view.address, "hang")  # its event loop blocks: no answers
            await eventually(lambda: supervisor.view.instance_id not in ("", old_instance),
                             within=20)
            await ready(app, "stuck")
            assert group_gone(old_pid)  # the hung process was killed (it ignores Shutdown)
            info = await module_info(stub, "stuck")
            assert info.restart_count == 1
            assert "3 health checks in a row failed" in info.last_error
            assert "did not answer within 0.2 s" in info.last_error
            healths = [e.details["new_health"] for e in app.bus.of("stuck", STATE_CHANGED)]
            first_bad = healths.index("DEGRADED")
            assert healths[first_bad:first_bad + 2] == ["DEGRADED", "UNHEALTHY"]
            assert healths[-1] == "HEALTHY"

    run(body())


def test_a_new_instance_id_means_a_restart_behind_our_back_and_its_entities_come_back(
        tmp_path: Path) -> None:
    # While the new image starts, checks fail (connection refused): a high threshold keeps
    # the orchestrator from restarting it meanwhile, so the new instance_id is what it sees.
    write_module(tmp_path / "mods", "sneaky", supervision={"failure_threshold": 40})

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            await ready(app)
            supervisor = app.modules.get("sneaky")
            await stub.CreateEntity(orchestrator_pb2.OrchestratorServiceCreateEntityRequest(
                module_id="sneaky", request=entity_pb2.CreateEntityRequest(
                    entity_type="thing", entity_id="cam-1", config={"k": "v"})))
            pid, old_instance = supervisor.view.pid, supervisor.view.instance_id
            await fault(supervisor.view.address, "exec")  # same pid, a new process image
            await eventually(lambda: bool(app.bus.of("sneaky", RESTARTED)), within=20)
            await ready(app, "sneaky")
            info = await module_info(stub, "sneaky")
            assert info.pid == pid and info.status.instance_id != old_instance
            (restarted,) = app.bus.of("sneaky", RESTARTED)
            assert restarted.details["old_instance_id"] == old_instance
            assert "restarted by itself" in restarted.details["reason"]
            async with direct(info.grpc_address) as module:  # re-created in the new instance
                listed = await module.ListEntities(entity_pb2.ListEntitiesRequest())
            assert [e.source.id for e in listed.entities] == ["cam-1"]
            assert dict(listed.entities[0].source.config) == {"k": "v"}

    run(body())
