"""`mediagrid pipeline create|list|delete` and `mediagrid status` against a running
orchestrator, as a script would use them (--json, exit codes)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from mediagrid.v1 import orchestrator_pb2
from tests.orchestrator.conftest import client, orchestrator, ready, run
from tests.stack.helpers import kind, make, ref, write_pipes

op = orchestrator_pb2


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mediagrid.cli", *args], capture_output=True,
                          text=True, timeout=60)


def test_pipeline_commands_and_status_with_flows(tmp_path: Path) -> None:
    write_pipes(tmp_path / "mods", "cams", {"cam": kind("source", ["hevc"])})
    write_pipes(tmp_path / "mods", "conv", {"to-h264": kind("converter", ["hevc"],
                                                            output=["h264"])})
    write_pipes(tmp_path / "mods", "screens", {"screen": kind("sink", ["h264"]),
                                               "legacy": kind("sink", ["mpeg4"])})

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                client(app) as stub:
            await ready(app)
            await make(stub, "cams", "cam", "cam")
            await make(stub, "screens", "screen", "screen")
            await make(stub, "screens", "legacy", "legacy")
            # A pipeline started and deleted: a stopped flow, which status does not list
            # (without start=True no flow would exist to be stopped).
            await stub.CreatePipeline(op.CreatePipelineRequest(
                pipeline_id="gone", source=ref("cams", "cam"), sink=ref("screens", "screen"),
                start=True), timeout=30)
            await stub.DeletePipeline(op.DeletePipelineRequest(pipeline_id="gone"), timeout=30)
            at = ("--address", app.address)

            def calls() -> None:
                made = cli("pipeline", "create", "cams/cam", "screens/screen", "--id", "look",
                           "--codec", "h264", "--size", "320x240", "--json", *at)
                assert made.returncode == 0, made.stderr
                document = json.loads(made.stdout)
                assert document["ok"] and document["flow"]["id"] == "look"
                last = document["flow"]["connections"][-1]["quality"]
                assert (last["video_codec"], last["resolution"]) == (
                    "h264", {"width": 320, "height": 240}), last
                assert [e["entity_id"] for e in document["created_entities"]] == ["look-c1"]
                none = cli("pipeline", "create", "cams/cam", "screens/legacy", *at)
                assert none.returncode == 1 and "codecs not matched" in none.stderr
                bad = cli("pipeline", "create", "cams", "screens/legacy", *at)
                assert bad.returncode == 2 and "MODULE/ENTITY" in bad.stderr
                listed = json.loads(cli("pipeline", "list", "--json", *at).stdout)
                assert [f["id"] for f in listed["flows"]] == ["look"]
                every = json.loads(cli("pipeline", "list", "--all", "--json", *at).stdout)
                assert [f["id"] for f in every["flows"]] == ["gone", "look"]
                status = json.loads(cli("status", "--json", *at).stdout)
                assert [f["id"] for f in status["flows"]] == ["look"]
                assert {e["module_id"] for e in status["entities"]} == {"cams", "conv",
                                                                        "screens"}
                table = cli("status", *at)
                assert table.returncode == 0 and "look" in table.stdout, table.stderr
                gone = cli("pipeline", "delete", "look", "--json", *at)
                assert json.loads(gone.stdout)["deleted"] is True
                assert cli("pipeline", "delete", "nope", *at).returncode == 2

            await asyncio.to_thread(calls)

    run(body())
