"""`mediagrid up`, `mediagrid status`, `mediagrid restart` as a user runs them (docs/cli.md exit
codes; C-2 on the screen; SIGHUP rescans; Ctrl-C once cleanly, twice at once)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from tests.orchestrator.conftest import write_module
from tests.orchestrator.running import Up, up
from tests.support import free_port, group_gone, wait_until


def mediagrid(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mediagrid.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=90)


def test_up_status_restart_rescan_and_ctrl_c(tmp_path: Path) -> None:
    mods = tmp_path / "mods"
    write_module(mods, "alpha", types=("thing",))
    (mods / "broken").mkdir()
    (mods / "broken" / "module.yaml").write_text("id: Broken!\ncommand: [x]\n")
    with up(tmp_path, mods) as orchestrator:  # the state file goes in the current folder
        (alpha,) = orchestrator.wait_ready(1)
        shown = orchestrator.output()
        assert "broken/module.yaml" in shown and "id:" in shown  # C-2: named and skipped
        assert "READY" in shown and f"pid {alpha.pid}" in shown
        assert (tmp_path / "mediagrid-state.sqlite").exists()

        table = mediagrid("status", "--address", orchestrator.address, cwd=tmp_path)
        assert table.returncode == 0, table.stderr
        assert "alpha" in table.stdout and "READY" in table.stdout and "1 of 1 READY" in \
            table.stdout
        document = json.loads(mediagrid("status", "--json", "--address", orchestrator.address,
                                        cwd=tmp_path).stdout)
        assert document["ok"] and [m["id"] for m in document["modules"]] == ["alpha"]
        assert document["modules"][0]["pid"] == alpha.pid

        restarted = mediagrid("restart", "alpha", "--wait", "--address", orchestrator.address,
                              cwd=tmp_path)
        assert restarted.returncode == 0, restarted.stderr
        assert "restarted alpha: now READY" in restarted.stderr
        unknown = mediagrid("restart", "nope", "--address", orchestrator.address, cwd=tmp_path)
        assert unknown.returncode == 2 and "known modules: alpha" in unknown.stderr

        write_module(mods, "beta", types=("thing",))
        orchestrator.signal(signal.SIGHUP)
        infos = orchestrator.wait_ready(2)
        assert "rescan: added beta" in orchestrator.output()
        assert orchestrator.stop() == 0
        assert "stopped" in orchestrator.output()
        for info in infos:
            assert group_gone(info.pid)

    missing = mediagrid("status", "--json", "--address", f"127.0.0.1:{free_port()}",
                        cwd=tmp_path)
    assert missing.returncode == 1 and json.loads(missing.stdout)["ok"] is False
    assert "mediagrid up" in missing.stderr
    bad = mediagrid("up", "--modules", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert bad.returncode == 2 and "no such folder" in bad.stderr


def test_up_a_second_ctrl_c_kills_every_module_at_once(tmp_path: Path) -> None:
    mods = tmp_path / "mods"
    write_module(mods, "stubborn", types=("thing",), env={"IGNORE_STOP": "1"},
                 supervision={"shutdown": {"rpc_grace": "60s", "term_grace": "60s"}})
    orchestrator = Up(tmp_path, mods)
    try:
        (info,) = orchestrator.wait_ready(1)
        orchestrator.signal(signal.SIGINT)  # the ladder would wait minutes on this module
        assert wait_until(lambda: "Shutdown received" in orchestrator.output(), 20)
        orchestrator.signal(signal.SIGINT)
        assert orchestrator.proc.wait(20) == 130
        assert group_gone(info.pid, 10)
        second = Up(tmp_path, mods)  # the state file is free again at once
        try:
            second.wait_ready(1)
        finally:
            second.kill()
    finally:
        if orchestrator.proc.poll() is None:
            orchestrator.kill()
