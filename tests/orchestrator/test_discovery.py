"""Discovery and rescans (C-2): an invalid module.yaml is reported with the validator's
message and skipped while the others start; RescanModules adds, retires and replaces."""

from __future__ import annotations

import shutil
from pathlib import Path

from mediagrid.v1 import orchestrator_pb2
from tests.orchestrator.conftest import client, orchestrator, ready, run, write_module
from tests.support import alive, eventually, group_gone


def test_c2_an_invalid_module_yaml_beside_valid_ones(tmp_path: Path) -> None:
    mods = tmp_path / "mods"
    write_module(mods, "good")
    (mods / "nested" / "bad").mkdir(parents=True)
    (mods / "nested" / "bad" / "module.yaml").write_text(
        'id: bad\ncommand: ["{python}", "x.py"]\nsupervision:\n  health_period: fast\n')

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", mods) as app, client(app) as stub:
            await ready(app)
            assert [s.id for s in app.modules] == ["good"]
            (problem,) = app.last_scan.problems
            assert problem.file.endswith("nested/bad/module.yaml")
            assert problem.field_path == "supervision.health_period"
            assert '"fast" is not a duration' in problem.message and "500ms" in problem.fix
            rescan = await stub.RescanModules(orchestrator_pb2.RescanModulesRequest())
            assert not (rescan.added or rescan.removed or rescan.changed)
            assert [p.field for p in rescan.problems] == ["supervision.health_period"]

    run(body())


def test_c2_rescan_adds_retires_and_replaces_modules_while_running(tmp_path: Path) -> None:
    mods = tmp_path / "mods"
    write_module(mods, "stays", types=("thing",))
    write_module(mods, "goes", types=("thing",))
    write_module(mods, "changes", types=("thing",))

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", mods) as app, client(app) as stub:
            await ready(app)
            pids = {s.id: s.view.pid for s in app.modules}
            shutil.rmtree(mods / "goes")
            write_module(mods, "comes", types=("thing",))
            write_module(mods, "changes", types=("thing", "sink"))
            rescan = await stub.RescanModules(orchestrator_pb2.RescanModulesRequest())
            assert (list(rescan.added), list(rescan.removed), list(rescan.changed)) == (
                ["comes"], ["goes"], ["changes"])
            assert group_gone(pids["goes"]) and group_gone(pids["changes"])
            await ready(app, "comes", "changes")
            assert [s.id for s in app.modules] == ["changes", "comes", "stays"]
            assert app.modules.get("stays").view.pid == pids["stays"]
            assert [t.type for t in app.modules.get("changes").view.entity_types] == \
                ["thing", "sink"]
            # A running module whose file turns invalid keeps running; the problem is told.
            (mods / "stays" / "module.yaml").write_text("id: stays\ncommand: nope\n")
            rescan = await stub.RescanModules(orchestrator_pb2.RescanModulesRequest())
            assert not rescan.removed and rescan.problems[0].field == "command"
            assert alive(pids["stays"])
            await eventually(lambda: app.modules.get("stays").view.pid == pids["stays"])

    run(body())
