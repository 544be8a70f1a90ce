"""The orchestrator SIGKILLed (H-19, H-15): no module outlives it, and started again on the same
state file it brings the modules and what services asked for back, with the same ids."""

from __future__ import annotations

from pathlib import Path

from mediagrid.v1 import common_pb2, entity_pb2, orchestrator_pb2, pipeline_pb2
from tests.orchestrator.conftest import write_module
from tests.orchestrator.running import up
from tests.support import group_gone, wait_dead

op = orchestrator_pb2
VIDEO = common_pb2.MEDIA_TYPE_VIDEO


def test_h19_h15_sigkill_leaves_no_module_and_a_restart_brings_everything_back(
        tmp_path: Path) -> None:
    mods = tmp_path / "mods"
    write_module(mods, "src", types=("thing",))
    write_module(mods, "dst", types=("sink",))
    state = tmp_path / "state.sqlite"
    with up(tmp_path, mods, state=state) as first:
        pids = [m.pid for m in first.wait_ready(2)]
        channel, stub = first.stub()
        with channel:
            for module_id, kind, entity_id in (("src", "thing", "cam"), ("dst", "sink", "rec")):
                stub.CreateEntity(op.OrchestratorServiceCreateEntityRequest(
                    module_id=module_id, request=entity_pb2.CreateEntityRequest(
                        entity_type=kind, entity_id=entity_id, config={"id": entity_id}
                        if kind == "thing" else {})), timeout=10)
            stub.ConnectEntities(op.OrchestratorServiceConnectEntitiesRequest(
                connection_id="cam-rec", source=op.EntityRef(module_id="src", entity_id="cam"),
                target=op.EntityRef(module_id="dst", entity_id="rec"), media_type=VIDEO),
                timeout=10)
            stub.StartFlow(op.OrchestratorServiceStartFlowRequest(
                flow_id="rec-flow", connection_ids=["cam-rec"]), timeout=10)
        first.kill()  # SIGKILL: no chance to stop anything
        for pid in pids:  # H-19: the modules died with it
            assert wait_dead(pid, 10) and group_gone(pid, 10)

    with up(tmp_path, mods, state=state) as second:
        infos = second.wait_ready(2)
        assert not set(pids) & {m.pid for m in infos}
        channel, stub = second.stub()
        with channel:
            listed = stub.ListEntities(op.OrchestratorServiceListEntitiesRequest(), timeout=10)
            assert [(e.module_id, getattr(e, e.WhichOneof("entity")).id,
                     dict(getattr(e, e.WhichOneof("entity")).config))
                    for e in listed.entities] == [("dst", "rec", {}),
                                                  ("src", "cam", {"id": "cam"})]
            flow = stub.GetFlowStatus(op.OrchestratorServiceGetFlowStatusRequest(
                flow_id="rec-flow"), timeout=10).flow
            assert [c.id for c in flow.connections] == ["cam-rec"]
            assert flow.status.state in (pipeline_pb2.FLOW_STATE_INITIALIZING,
                                         pipeline_pb2.FLOW_STATE_ACTIVE), flow.status
        assert second.stop() == 0
        for info in infos:
            assert group_gone(info.pid, 10)
