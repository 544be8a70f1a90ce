"""Module processes under the orchestrator, for real: crashes, exit 98, the environment, process
groups, start-up failures, flapping and giving up (H-14, H-16, H-17, H-19, H-20, H-21, S-6,
E-17, C-7)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from mediagrid.reference.orchestrator.app import Orchestrator
from mediagrid.reference.orchestrator.modules import ERROR, READY, STARTING
from mediagrid.reference.orchestrator.supervision.supervisor import ModuleSupervisor
from mediagrid.v1 import event_pb2, orchestrator_pb2
from tests.orchestrator.conftest import (
    client,
    module_info,
    orchestrator,
    ready,
    run,
    write_module,
)
from tests.support import alive, eventually, group_gone, wait_dead

STATE_CHANGED = event_pb2.EVENT_TYPE_MODULE_STATE_CHANGED
RESTARTED = event_pb2.EVENT_TYPE_MODULE_RESTARTED


def test_h14_a_crash_is_noticed_by_waiting_on_the_process_and_restarted(tmp_path: Path) -> None:
    # A health period of a minute: only waiting on the process can notice the crash in time.
    write_module(tmp_path / "mods", "alpha", supervision={"health_period": "60s"})

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            await ready(app)
            supervisor = app.modules.get("alpha")
            old_pid, old_instance = supervisor.view.pid, supervisor.view.instance_id
            os.kill(old_pid, signal.SIGKILL)
            await eventually(lambda: supervisor.view.instance_id not in ("", old_instance),
                             within=20)
            await ready(app, "alpha")
            info = await module_info(stub, "alpha")
            assert info.restart_count == 1
            assert info.pid != old_pid and alive(info.pid)
            assert "killed by SIGKILL" in info.last_error
            assert supervisor.delays == [0.0]  # H-16: the first restart at once
            # E-17: READY -> ERROR, then STARTING, READY; MODULE_RESTARTED with the new id.
            changes = [(e.details["old_state"], e.details["new_state"])
                       for e in app.bus.of("alpha", STATE_CHANGED)]
            assert changes[-3:] == [("READY", "ERROR"), ("ERROR", "STARTING"),
                                    ("STARTING", "READY")]
            (restarted,) = app.bus.of("alpha", RESTARTED)
            assert restarted.details["instance_id"] == info.status.instance_id
            assert restarted.details["old_instance_id"] == old_instance
            assert "SIGKILL" in restarted.details["reason"]

    run(body())


def test_h19_s6_own_process_group_and_the_section_2_1_environment(tmp_path: Path) -> None:
    dump = tmp_path / "env.json"
    odd = "two words; $(touch pwned) | *"  # an argument list, never a shell (S-6)
    write_module(tmp_path / "mods", "alpha", env={"ENV_DUMP": str(dump)}, args=(odd,))

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods",
                                token="s3cret") as app:
            await ready(app)  # its HealthCheck needed the token: the orchestrator sends it
            seen = json.loads(dump.read_text())
            view = app.modules.get("alpha").view
            assert seen["pgid"] == seen["pid"] == view.pid != os.getpgid(0)  # H-19
            env = seen["env"]
            assert f"127.0.0.1:{env['GRPC_PORT']}" == view.address
            assert env["MEDIAGRID_MODULE_ID"] == "alpha"
            assert env["MEDIAGRID_BIND_HOST"] == "127.0.0.1"
            assert env["MEDIAGRID_ORCHESTRATOR_ADDRESS"] == app.address
            assert env["MEDIAGRID_TOKEN"] == "s3cret"
            assert seen["argv"][-1] == odd
            assert not (tmp_path / "mods" / "alpha" / "pwned").exists()
        assert group_gone(view.pid or seen["pid"])  # stopped with the orchestrator

    run(body())


def test_h20_exit_98_is_retried_at_once_on_another_port_and_not_counted(tmp_path: Path) -> None:
    write_module(tmp_path / "mods", "alpha", env={"PORT_TAKEN_ONCE": str(tmp_path / "taken")})

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            await ready(app)
            assert (tmp_path / "taken").exists()  # the first process did exit 98
            info = await module_info(stub, "alpha")
            assert info.restart_count == 0 and not app.bus.of("alpha", RESTARTED)
            assert app.modules.get("alpha").delays == []  # no backoff, no give-up count

    run(body())


def test_h21_a_process_that_exits_before_ready_fails_the_start_with_its_stderr(
        tmp_path: Path) -> None:
    folder = tmp_path / "mods" / "broken"
    folder.mkdir(parents=True)
    (folder / "module.yaml").write_text(
        'id: broken\ncommand: ["{python}", "-c", "import sys; sys.stderr.write(\'no camera'
        ' at /dev/video9\\\\n\'); sys.exit(2)"]\n'
        "supervision:\n  startup_timeout: 60s\n  restart_backoff: {initial: 50ms, max: 100ms,"
        " jitter: 0}\n  give_up: {max_restarts: 2, window: 1m}\n")

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            supervisor = app.modules.get("broken")
            await eventually(lambda: supervisor.view.state == ERROR and
                             "gave up" in supervisor.view.error_message, within=30)
            info = await module_info(stub, "broken")
            assert "exited with code 2" in info.last_error  # at once, not after 60 s
            assert "no camera at /dev/video9" in info.last_error  # the stderr tail
            assert info.restart_count == 2 and supervisor.delays == [0.0, 0.05]  # H-16, H-17
            assert "more than 2 restarts within 60s" in info.status.error_message

    run(body())


def test_h21_the_start_up_deadline_fails_a_module_that_never_gets_ready(tmp_path: Path) -> None:
    write_module(tmp_path / "mods", "slow", env={"START_DELAY": "600"},
                 supervision={"startup_timeout": "1500ms", "restart_policy": "never"})

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app:
            supervisor = app.modules.get("slow")
            await eventually(lambda: supervisor.view.pid != 0)
            pid = supervisor.view.pid
            await eventually(lambda: supervisor.view.state == ERROR, within=30)
            assert "was not READY within 1.5s" in supervisor.view.last_error
            assert "restart_policy is never" in supervisor.view.error_message
            assert wait_dead(pid) and group_gone(pid)  # the ladder stopped the late starter

    run(body())


def test_h17_a_flapping_module_gives_up_until_restart_module(tmp_path: Path) -> None:
    flag = tmp_path / "flapping"
    flag.write_text("yes")
    write_module(tmp_path / "mods", "flappy", env={"CRASH_AFTER": "0.3", "FLAP_FILE": str(flag)},
                 supervision={"give_up": {"max_restarts": 3, "window": "1m"}})

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            supervisor = app.modules.get("flappy")
            await eventually(lambda: "gave up" in supervisor.view.error_message, within=40)
            info = await module_info(stub, "flappy")
            assert info.status.state == ERROR and info.pid == 0
            assert info.restart_count == 3 and supervisor.delays == [0.0, 0.05, 0.1]
            assert "exited with code 1" in info.last_error
            flag.unlink()  # fixed: RestartModule clears the ERROR
            response = await stub.RestartModule(orchestrator_pb2.RestartModuleRequest(
                module_id="flappy", reason="fixed it"))
            assert response.module.status.state == STARTING and response.module.pid
            await ready(app, "flappy")
            assert (await module_info(stub, "flappy")).restart_count == 4
            restarted = app.bus.of("flappy", RESTARTED)[-1]
            assert restarted.details["reason"] == "fixed it"

    run(body())


def test_h17_e17_a_give_up_after_a_crash_while_ready_is_announced(tmp_path: Path) -> None:
    # A crash while READY makes the module ERROR/UNHEALTHY at once; the give-up that follows
    # changes neither, yet subscribers must learn that supervision stopped.
    write_module(tmp_path / "mods", "crashy", env={"CRASH_AFTER": "1.0"},
                 supervision={"give_up": {"max_restarts": 0, "window": "1m"}})

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app:
            supervisor = app.modules.get("crashy")
            await eventually(lambda: "gave up" in supervisor.view.error_message, within=30)
            changes = [(e.details["old_state"], e.details["new_state"], e.details.get("gave_up"))
                       for e in app.bus.of("crashy", STATE_CHANGED)]
            assert ("READY", "ERROR", None) in changes
            assert changes[-1] == ("ERROR", "ERROR", "true")

    run(body())


def test_restart_module_restarts_a_ready_module_and_unknown_ids_are_not_found(
        tmp_path: Path) -> None:
    write_module(tmp_path / "mods", "alpha")

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            await ready(app)
            old = await module_info(stub, "alpha")
            response = await stub.RestartModule(orchestrator_pb2.RestartModuleRequest(
                module_id="alpha"))
            assert response.module.pid != old.pid and response.module.status.state == STARTING
            assert wait_dead(old.pid)
            await ready(app, "alpha")
            info = await module_info(stub, "alpha")
            assert info.status.state == READY and info.restart_count == 1
            assert info.last_error == ""  # an operator's restart is not a failure
            try:
                await stub.RestartModule(orchestrator_pb2.RestartModuleRequest(module_id="nope"))
            except Exception as exc:
                assert "NOT_FOUND" in str(exc.code()) and "alpha" in exc.details()
            else:
                raise AssertionError("RestartModule of an unknown id answered OK")

    run(body())


def test_h16_the_backoff_starts_over_after_reset_after_of_good_health_checks(
        tmp_path: Path) -> None:
    write_module(tmp_path / "mods", "alpha", supervision={
        "health_period": "100ms", "health_timeout": "1s",
        "restart_backoff": {"initial": "200ms", "max": "1s", "jitter": 0, "reset_after": "1s"}})

    async def crash(app: Orchestrator, supervisor: ModuleSupervisor) -> None:
        old = supervisor.view.instance_id
        os.kill(supervisor.view.pid, signal.SIGKILL)
        await eventually(lambda: supervisor.view.instance_id not in ("", old), within=20)
        await ready(app, "alpha")

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app:
            await ready(app)
            supervisor = app.modules.get("alpha")
            await crash(app, supervisor)
            await crash(app, supervisor)  # at once, then 200 ms
            assert supervisor.delays == [0.0, 0.2]
            checks = supervisor.view.last_heartbeat
            await eventually(lambda: supervisor.planner.backoff.healthy_for >= 1.0, within=20)
            assert supervisor.view.last_heartbeat > checks  # READY, checked, for reset_after
            await eventually(lambda: supervisor.planner.backoff.attempt == 0, within=5)
            await crash(app, supervisor)
            assert supervisor.delays == [0.0, 0.2, 0.0]  # at once again

    run(body())


def test_h17_restart_module_after_giving_up_gives_a_fresh_count_and_backoff(
        tmp_path: Path) -> None:
    # Still flapping after RestartModule: it must get max_restarts restarts again (the first
    # at once), not give up on its first crash because the old restarts are in the window.
    write_module(tmp_path / "mods", "flappy", env={"CRASH_AFTER": "0.3"},
                 supervision={"give_up": {"max_restarts": 1, "window": "1m"}})

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            supervisor = app.modules.get("flappy")
            await eventually(lambda: "gave up" in supervisor.view.error_message, within=40)
            assert supervisor.delays == [0.0] and supervisor.view.restart_count == 1
            response = await stub.RestartModule(orchestrator_pb2.RestartModuleRequest(
                module_id="flappy"))
            assert response.module.status.state == STARTING  # the ERROR message is gone
            await eventually(lambda: "gave up" in supervisor.view.error_message, within=40)
            assert supervisor.delays == [0.0, 0.0]  # restarted once more, at once
            assert (await module_info(stub, "flappy")).restart_count == 3

    run(body())


def test_h18_h19_the_ladder_ends_the_modules_whole_process_group(tmp_path: Path) -> None:
    # A module's own child (ffmpeg, say) must not outlive it: the ladder signals the group,
    # and SIGKILLs what is left of it even when the module itself obeyed Shutdown.
    child_file = tmp_path / "child.pid"
    write_module(tmp_path / "mods", "parent", env={"CHILD_PID": str(child_file)})
    child = 0

    async def body() -> int:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app:
            await ready(app)
            nonlocal child
            child = int(child_file.read_text())
            assert alive(child) and os.getpgid(child) == app.modules.get("parent").view.pid
            return app.modules.get("parent").view.pid

    try:
        pid = run(body())  # leaving the block stops the module by the ladder
        assert wait_dead(child) and group_gone(pid)
    finally:
        if child and alive(child):
            os.kill(child, signal.SIGKILL)
