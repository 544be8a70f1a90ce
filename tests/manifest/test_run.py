"""`mediagrid module run` against the real tiny module (fixtures/modules/tiny): a real
process on a real port, answering HealthCheck and Shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from mediagrid.manifest.run import run_module
from mediagrid.v1 import module_pb2, module_pb2_grpc
from tests.support import ROOT, alive, free_port, wait_dead

TINY = ROOT / "fixtures" / "modules" / "tiny"
HELLO = ROOT / "examples" / "python" / "hello"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mediagrid.cli", "module", "run", *args]


@pytest.fixture
def runners() -> Iterator[list[subprocess.Popen[str]]]:
    """Runner processes started by a test; killed (with their module) at teardown."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()  # the module has PR_SET_PDEATHSIG: it dies with the runner
            proc.wait(10)


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port bound and listening here, so a module cannot bind it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def module_yaml(folder: Path, extra: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "module.yaml").write_text(f"id: tmp-module\n{extra}")
    return folder


def test_once_json_starts_checks_and_stops() -> None:
    result = subprocess.run(cli(str(TINY), "--once", "--json"), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)  # one object, printed after the shutdown
    assert summary["ok"] is True and summary["exit_code"] == 0
    assert summary["module_id"] == "tiny" and summary["state"] == "READY"
    assert summary["manifest"] == str(TINY / "module.yaml")
    assert summary["address"] == f"127.0.0.1:{summary['port']}"
    assert uuid.UUID(summary["instance_id"]).version == 4
    assert summary["entity_types"] == [{"type": "beep", "kind": "source",
                                        "media_types": ["audio"]}]
    assert "tiny module listening" in result.stderr  # the module's stdout, forwarded
    assert not alive(summary["pid"])


def test_once_prints_a_table() -> None:
    result = subprocess.run(cli(str(TINY / "module.yaml"), "--once"), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for text in ("module", "tiny", "address", "127.0.0.1:", "instance", "READY",
                 "beep (source, audio)"):
        assert text in result.stdout


def test_runs_until_sigint_then_shuts_down_cleanly(runners: list[subprocess.Popen[str]]) -> None:
    port = free_port()
    proc = subprocess.Popen(cli(str(TINY), "--json", "--port", str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runners.append(proc)
    assert proc.stdout is not None
    summary = json.loads(proc.stdout.readline())
    assert summary["port"] == port

    async def health() -> module_pb2.HealthCheckResponse:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = module_pb2_grpc.ModuleServiceStub(channel)
            return await stub.HealthCheck(module_pb2.HealthCheckRequest(), timeout=5)

    answer = asyncio.run(health())
    assert answer.status.instance_id == summary["instance_id"]
    assert answer.module_id == "tiny"  # MEDIAGRID_MODULE_ID reached the module
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    assert not alive(summary["pid"])


def test_exit_code_mirrors_the_module(tmp_path: Path) -> None:
    folder = module_yaml(tmp_path, f'command: ["{{python}}", "{TINY / "module.py"}"]\n'
                                   'env: {TINY_EXIT_AFTER: "2", TINY_EXIT_CODE: "5"}\n')
    result = subprocess.run(cli(str(folder)), capture_output=True, text=True, timeout=60)
    assert result.returncode == 5, result.stderr
    assert "READY" in result.stdout


def test_port_in_use_retries_on_another_port(held_port: int,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The module really exits 98 on the held port; the runner tries a new free port."""
    ports = iter([held_port])
    picked: list[int] = []

    def pick() -> int:
        picked.append(next(ports, None) or free_port())
        return picked[-1]

    code = asyncio.run(run_module(str(TINY), once=True, as_json=True, pick_port=pick))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert picked[0] == held_port and len(picked) == 2
    assert f"port {held_port} was taken; trying another free port" in err
    assert json.loads(out)["port"] == picked[1]


def test_port_given_and_taken_fails_without_retry(held_port: int) -> None:
    result = subprocess.run(cli(str(TINY), "--port", str(held_port), "--once"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "exited with code 98 (port in use) before it was READY" in result.stderr
    assert f"cannot bind port {held_port}" in result.stderr  # the module's last words


def test_startup_deadline_is_named(tmp_path: Path) -> None:
    folder = module_yaml(tmp_path, f'command: ["{{python}}", "{TINY / "module.py"}"]\n'
                                   'env: {TINY_READY_AFTER: "60"}\n'
                                   "supervision:\n  startup_timeout: 1500ms\n"
                                   "  shutdown: {rpc_grace: 2s, term_grace: 2s}\n")
    result = subprocess.run(cli(str(folder), "--once", "--json"), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    failure = json.loads(result.stdout)
    assert failure["ok"] is False and failure["module_id"] == "tmp-module"
    assert failure["error"].startswith("module tmp-module was not READY within 1.5s")
    assert failure["exit_code"] is None  # it did not exit by itself: the runner stopped it
    assert "module tmp-module was not READY within 1.5s (supervision.startup_timeout" in \
        result.stderr.replace("\n", "")
    # what the last HealthCheck said: STARTING, or UNAVAILABLE on a machine so busy that
    # the module did not even listen within the deadline
    assert re.search(r"last: (STARTING|UNAVAILABLE)", result.stderr)


def crashing_module(folder: Path, stderr_lines: int) -> Path:
    """A module that writes `stderr_lines` lines on stderr (the last with brackets, which
    must not be read as rich markup) and exits 3 before it is READY."""
    script = ("import sys; [print('boom %d: no camera [red]configured' % i, file=sys.stderr) "
              f"for i in range({stderr_lines})]; sys.exit(3)")
    return module_yaml(folder, f"command: ['{{python}}', '-c', \"{script}\"]\n")


def test_exit_before_ready_shows_stderr_once(tmp_path: Path) -> None:
    """The module's stderr is forwarded live; the error points at it instead of quoting it
    a second time."""
    result = subprocess.run(cli(str(crashing_module(tmp_path, 2)), "--once"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("boom 1: no camera [red]configured") == 1
    assert result.stderr.index("boom 1") < result.stderr.index("error:")
    assert ("error: module tmp-module exited with code 3 before it was READY; see its "
            "output above") in result.stderr
    assert result.stdout == ""


def test_exit_before_ready_without_stderr_says_so(tmp_path: Path) -> None:
    result = subprocess.run(cli(str(crashing_module(tmp_path, 0)), "--once"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "exited with code 3 before it was READY (it wrote nothing on stderr)" in \
        result.stderr


def test_failed_start_json_is_one_complete_object(tmp_path: Path) -> None:
    """A script reading stdout gets the failure too, with the whole stderr tail (the
    terminal message leaves it out because it was forwarded above)."""
    folder = crashing_module(tmp_path, 25)
    result = subprocess.run(cli(str(folder), "--once", "--json"), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    failure = json.loads(result.stdout)
    assert failure == {
        "ok": False, "module_id": "tmp-module", "manifest": str(folder / "module.yaml"),
        "address": f"127.0.0.1:{failure['port']}", "port": failure["port"],
        "error": "module tmp-module exited with code 3 before it was READY",
        "exit_code": 3,
        "stderr_tail": [f"boom {i}: no camera [red]configured" for i in range(5, 25)],
    }


def test_once_json_when_the_module_exits_non_zero_after_shutdown(tmp_path: Path) -> None:
    """tiny, wrapped so that it exits 7 (with a last stderr line) after a clean Shutdown."""
    script = ("import atexit, os, runpy, sys; atexit.register(lambda: (print('closing: disk "
              "full', file=sys.stderr), sys.stderr.flush(), os._exit(7))); "
              f"runpy.run_path('{TINY / 'module.py'}', run_name='__main__')")
    folder = module_yaml(tmp_path, f'command: ["{{python}}", "-c", "{script}"]\n')
    result = subprocess.run(cli(str(folder), "--once", "--json"), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["ok"] is False and summary["exit_code"] == 7
    assert summary["state"] == "READY"  # it did get there: the READY keys are kept
    assert summary["error"] == "module exited with 7 after Shutdown (the contract says 0)"
    assert summary["stderr_tail"][-1] == "closing: disk full"
    assert not alive(summary["pid"])


def test_command_that_cannot_start_json(tmp_path: Path) -> None:
    folder = module_yaml(tmp_path, "command: ['./no-such-program']\n")
    result = subprocess.run(cli(str(folder), "--json"), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    failure = json.loads(result.stdout)
    assert failure["ok"] is False and failure["exit_code"] is None
    assert failure["error"].startswith("cannot start ") and "no-such-program" in \
        failure["error"]
    assert failure["address"] is None and failure["stderr_tail"] == []
    assert "error: cannot start" in result.stderr


def test_interrupted_before_ready_exits_130_with_json(
        tmp_path: Path, runners: list[subprocess.Popen[str]]) -> None:
    folder = module_yaml(tmp_path, f'command: ["{{python}}", "{TINY / "module.py"}"]\n'
                                   'env: {TINY_READY_AFTER: "60"}\n')
    proc = subprocess.Popen(cli(str(folder), "--json"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    runners.append(proc)
    assert proc.stderr is not None and proc.stdout is not None
    while "tiny module listening" not in (line := proc.stderr.readline()):
        assert line, "the runner ended before the module listened"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 130
    failure = json.loads(proc.stdout.read())
    assert failure["ok"] is False and failure["exit_code"] is None
    assert failure["error"] == "interrupted before the module was READY"


def test_invalid_manifest_exits_2() -> None:
    result = subprocess.run(cli(str(ROOT / "fixtures/invalid-modules/bad-duration"), "--once",
                                "--json"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    failure = json.loads(result.stdout)
    file = str(ROOT / "fixtures/invalid-modules/bad-duration/module.yaml")
    assert failure["ok"] is False and failure["module_id"] is None
    assert failure["manifest"] == file and failure["error"] == f"{file} is invalid (1 problem)"
    relative = subprocess.run(cli("fixtures/invalid-modules/bad-duration", "--json"), cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert json.loads(relative.stdout)["manifest"] == file  # absolute, as when it is valid
    assert [p["field"] for p in failure["problems"]] == ["supervision.health_period"]
    assert "✗ " + str(ROOT / "fixtures/invalid-modules/bad-duration/module.yaml") in \
        result.stderr.replace("\n", "")
    assert "supervision.health_period" in result.stderr


@pytest.mark.parametrize(("flags", "named"), [
    (["--orchestrator", "nohost"], "--orchestrator: 'nohost' is not HOST:PORT"),
    (["--port", "70000"], "--port: '70000' is not a port number"),
])
def test_bad_flags_exit_2_before_starting_anything(flags: list[str], named: str) -> None:
    result = subprocess.run(cli(str(TINY), "--once", *flags), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert named in result.stderr


def test_hello_example_runs_once() -> None:
    result = subprocess.run(cli(str(HELLO), "--once", "--json"), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["state"] == "READY" and summary["entity_types"]
    assert not alive(summary["pid"])


def test_module_dies_with_a_killed_runner(runners: list[subprocess.Popen[str]]) -> None:
    proc = subprocess.Popen(cli(str(TINY), "--json"), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    runners.append(proc)
    assert proc.stdout is not None
    pid = json.loads(proc.stdout.readline())["pid"]
    proc.kill()  # no chance to run the shutdown ladder
    proc.wait(10)
    if not wait_dead(pid, 10):
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the module outlived its runner (no parent-death signal)")
