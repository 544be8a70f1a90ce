"""The shutdown ladder (H-18): the Shutdown RPC, then SIGTERM to the process group, then
SIGKILL, each after its grace; a module that obeys stops at the first rung with exit 0."""

from __future__ import annotations

import io
from pathlib import Path

from mediagrid.reference.orchestrator.module_events import Notice
from tests.orchestrator.conftest import orchestrator, ready, run, write_module
from tests.support import alive, group_gone


def test_h18_a_module_ignoring_shutdown_and_sigterm_is_killed_in_the_end(tmp_path: Path) -> None:
    write_module(tmp_path / "mods", "stubborn", env={"IGNORE_STOP": "1"},
                 supervision={"shutdown": {"rpc_grace": "400ms", "term_grace": "400ms"}})
    write_module(tmp_path / "mods", "polite")
    output = io.BytesIO()
    notices: list[Notice] = []

    async def body() -> dict[str, int]:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods", out=output) as app:
            app.reporter.listeners.append(notices.append)
            await ready(app)
            return {s.id: s.view.pid for s in app.modules}

    pids = run(body())  # leaving the block stops both modules by the ladder
    lines = output.getvalue().decode().splitlines()
    stubborn = [line for line in lines if line.startswith("[stubborn] ")]
    assert any("Shutdown received" in line and "ignored" in line for line in stubborn)
    assert any("SIGTERM received; ignored" in line for line in stubborn)
    stopped = {n.module_id: n.text for n in notices if n.text.startswith("stopped")}
    assert stopped == {"stubborn": "stopped (exit status 137)",  # 128 + SIGKILL
                       "polite": "stopped (exit status 0)"}  # the Shutdown RPC sufficed
    assert not any("SIGTERM" in line for line in lines if line.startswith("[polite] "))
    for pid in pids.values():
        assert not alive(pid) and group_gone(pid)
