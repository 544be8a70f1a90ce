"""What `mediagrid module run` prints: the READY table for people, and for scripts
(--json) exactly one JSON object per run, success or failure, with the same keys where
they apply (docs/module-yaml.md, "Running a module by hand")."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediagrid.manifest.model import ModuleManifest
    from mediagrid.manifest.process import ModuleProcess
    from mediagrid.v1 import module_pb2


def ready_summary(manifest: ModuleManifest, proc: ModuleProcess,
                  health: module_pb2.HealthCheckResponse) -> dict[str, Any]:
    """What --json prints once READY: the module as it answered its first READY HealthCheck.
    `exit_code` is null: the module is still running."""
    from mediagrid.v1 import common_pb2, module_pb2

    infos = list(health.entity_types) or manifest.entity_type_infos()
    return {
        "ok": True,
        "module_id": health.module_id or manifest.id,
        "manifest": str(manifest.path),
        "address": proc.address, "port": proc.port, "pid": proc.pid,
        "instance_id": health.status.instance_id,
        "state": module_pb2.ModuleState.Name(health.status.state).removeprefix("MODULE_STATE_"),
        "version": health.version or manifest.version,
        "entity_types": [{
            "type": info.type,
            "kind": common_pb2.EntityKind.Name(info.kind).removeprefix("ENTITY_KIND_").lower(),
            "media_types": [common_pb2.MediaType.Name(c.media_type)
                            .removeprefix("MEDIA_TYPE_").lower() for c in info.capabilities],
        } for info in infos],
        "exit_code": None,
    }


def once_summary(manifest: ModuleManifest, proc: ModuleProcess,
                 health: module_pb2.HealthCheckResponse, exit_code: int) -> dict[str, Any]:
    """What --once --json prints after the shutdown: the READY summary with the module's
    exit status; not ok (with an error) unless it exited 0 as the contract says."""
    summary = {**ready_summary(manifest, proc, health), "exit_code": exit_code}
    if exit_code != 0:
        summary.update(ok=False, error=f"module exited with {exit_code} after Shutdown "
                                       "(the contract says 0)",
                       stderr_tail=list(proc.stderr_tail))
    return summary


def failure_summary(manifest: ModuleManifest | None, file: str, error: str, *,
                    proc: ModuleProcess | None = None, exit_code: int | None = None,
                    stderr_tail: list[str] | None = None,
                    problems: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What --json prints when the module did not get to READY: the same keys as
    ready_summary where they apply (null when unknown), plus `error` (one line) and
    `stderr_tail`; `problems` too for an invalid module.yaml."""
    summary: dict[str, Any] = {
        "ok": False,
        "module_id": manifest.id if manifest else None,
        "manifest": str(manifest.path if manifest else Path(file).resolve()),
        "address": proc.address if proc else None, "port": proc.port if proc else None,
        "error": error, "exit_code": exit_code, "stderr_tail": stderr_tail or [],
    }
    if problems is not None:
        summary["problems"] = problems
    return summary


def print_json(summary: dict[str, Any]) -> None:
    import json

    print(json.dumps(summary), flush=True)


def print_ready(manifest: ModuleManifest, proc: ModuleProcess,
                 health: module_pb2.HealthCheckResponse, as_json: bool) -> None:
    from rich.table import Table

    from mediagrid.manifest.report import console

    summary = ready_summary(manifest, proc, health)
    if as_json:
        print_json(summary)
        return
    table = Table(title=f"{manifest.name} {summary['version']}", title_justify="left",
                  show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    types = "\n".join(f"{t['type']} ({t['kind']}, {'/'.join(t['media_types'])})"
                      for t in summary["entity_types"]) or "-"
    for name, value in (("module", summary["module_id"]), ("address", summary["address"]),
                        ("instance", summary["instance_id"]),
                        ("state", f"[green]{summary['state']}[/]"), ("entity types", types)):
        table.add_row(name, value)
    console().print(table)
    sys.stdout.flush()
