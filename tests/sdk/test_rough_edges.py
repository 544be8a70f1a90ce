"""What a new user of the SDK ran into, each fixed: an entity type missing from module.yaml
exits 2 with the message; enums print their names; a spawned task's failure reaches stderr
as well as the flow."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time

from mediagrid import sdk
from mediagrid.reference.modules.wiring import Flow, ModuleClient
from mediagrid.v1 import pipeline_pb2
from tests.sdk.conftest import HELLO


def test_a_class_for_a_type_module_yaml_lacks_exits_2_with_the_message(tmp_path, free_port):
    (tmp_path / "module.yaml").write_text((HELLO / "module.yaml").read_text())
    (tmp_path / "module.py").write_text(textwrap.dedent('''
        from pathlib import Path
        from mediagrid import sdk
        module = sdk.Module.from_manifest(Path(__file__).with_name("module.yaml"))

        @module.entity("camera")          # not in module.yaml
        class Camera(sdk.Entity):
            pass

        sdk.serve(module)
    '''))
    done = subprocess.run([sys.executable, "module.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=30, env={"GRPC_PORT": str(free_port),
                                                      "MEDIAGRID_MODULE_ID": "hello",
                                                      "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2, done.stderr
    assert "'camera' is not declared" in done.stderr and "module.yaml" in done.stderr
    assert "Traceback" not in done.stderr


def test_enums_print_their_names(caplog):
    assert f"{sdk.Health.DEGRADED}" == "DEGRADED" and str(sdk.Role.LOCAL) == "LOCAL"
    assert f"{sdk.MediaType.VIDEO:>6}" == " VIDEO" and str(sdk.ModuleState.READY) == "READY"
    assert int(sdk.MediaType.VIDEO) == 2  # the wire value is unchanged
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("state %s health %s", sdk.EntityState.ACTIVE,
                                    sdk.Health.HEALTHY)
    assert "state ACTIVE health HEALTHY" in caplog.text


FAILING = '''
import asyncio
from mediagrid import sdk
module = sdk.Module("failing", entity_types=[
    sdk.EntityType("src", kind="source", media_types=["video"]),
    sdk.EntityType("sink", kind="sink", media_types=["video"]),
])

async def broken() -> None:
    await asyncio.sleep(0.2)
    raise RuntimeError("the camera said no")

@module.entity("src")
class Src(sdk.Entity):
    async def start(self, link: sdk.Link) -> None:
        link.spawn(broken())

@module.entity("sink")
class Sink(sdk.Entity):
    pass

sdk.serve(module)
'''


def test_a_failing_spawned_task_is_written_to_stderr_and_to_the_flow(tmp_path, free_port):
    (tmp_path / "module.py").write_text(FAILING)
    process = subprocess.Popen([sys.executable, "module.py"], cwd=tmp_path, text=True,
                               stderr=subprocess.PIPE, env={"GRPC_PORT": str(free_port),
                                                            "MEDIAGRID_MODULE_ID": "failing",
                                                            "PATH": "/usr/bin:/bin"})
    try:
        module = ModuleClient(f"127.0.0.1:{free_port}")
        flow = Flow("f1")
        flow.connect("c1", module.create("src"), module.create("sink"))
        flow.start()
        deadline = time.monotonic() + 10
        while module.flow("f1").status.state != pipeline_pb2.FLOW_STATE_ERROR:
            assert time.monotonic() < deadline, module.flow("f1")
            time.sleep(0.05)
        assert "RuntimeError: the camera said no" in module.flow("f1").status.error_message
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert "connection 'c1': task" in stderr and "failed" in stderr
    assert "Traceback" in stderr and "the camera said no" in stderr  # the whole story
