"""The .proto files are the contract: they lint clean and the committed stubs match them."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_generator():
    spec = importlib.util.spec_from_file_location("proto_generate", ROOT / "proto" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_match_proto_files() -> None:
    stale = _load_generator().drift(ROOT)
    assert stale == [], f"regenerate with `tox -e proto`: {stale}"


def test_drift_is_detected(tmp_path: Path) -> None:
    """The drift check fails when a stub differs: it is not a check that always passes."""
    generator = _load_generator()
    copy = tmp_path / "mediagrid" / "v1"
    shutil.copytree(ROOT / "mediagrid" / "v1", copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "module_pb2.py").write_text("# edited by hand\n")
    (copy / "stray_pb2.py").write_text("")
    assert generator.drift(tmp_path) == ["module_pb2.py", "stray_pb2.py"]


def test_buf_lint_is_clean() -> None:
    buf = shutil.which("buf") or str(Path(sys.executable).parent / "buf")
    if not Path(buf).exists():
        pytest.fail("buf is not installed: pip install buf-bin (it is in the test extras)")
    result = subprocess.run([buf, "lint"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_of_the_contract_is_generated() -> None:
    from mediagrid.v1 import (
        config_pb2,
        entity_pb2,
        event_pb2,
        module_pb2,
        orchestrator_pb2,
        pipeline_pb2,
    )

    services = {
        "ModuleService": (module_pb2, {"HealthCheck", "Shutdown"}),
        "EntityService": (
            entity_pb2,
            {"CreateEntity", "ConfigureEntity", "GetEntityStatus", "DestroyEntity", "ListEntities"},
        ),
        "PipelineService": (
            pipeline_pb2,
            {"ConnectEntities", "DisconnectEntities", "StartFlow", "StopFlow", "GetFlowStatus",
             "AdjustQuality"},
        ),
        "EventService": (
            event_pb2, {"ReportEvent", "ReportStatus", "ReportMetrics", "ReportBatch"}
        ),
        "ConfigurableModuleService": (config_pb2, {"GetConfigSchema", "ApplyConfig", "GetConfig"}),
        "OrchestratorService": (
            orchestrator_pb2,
            {"ListModules", "GetModule", "FindModules", "SubscribeToEvents", "CreatePipeline",
             "RestartModule", "CreateEntity", "StartFlow", "DeletePipeline", "ListConnections",
             "ListFlows"},
        ),
    }
    for name, (module, methods) in services.items():
        descriptor = module.DESCRIPTOR.services_by_name[name]
        assert methods <= {m.name for m in descriptor.methods}, name
    stream = orchestrator_pb2.DESCRIPTOR.services_by_name["OrchestratorService"].methods_by_name[
        "SubscribeToEvents"
    ]
    assert stream.server_streaming and not stream.client_streaming
