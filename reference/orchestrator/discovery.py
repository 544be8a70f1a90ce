"""Discovery (rule C-2): the module folders are scanned recursively for module.yaml with the
one loader (`mediagrid.manifest.discovery.scan`); an invalid file is reported with the
validator's message and skipped while the others start. A rescan (RescanModules, SIGHUP)
compares what it finds with the modules running: new ids are added, ids whose file is gone
are retired, ids whose file changed are replaced. A running module whose file turned
invalid keeps running.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mediagrid.manifest.discovery import scan
from mediagrid.manifest.model import ModuleManifest, Problem
from mediagrid.v1 import orchestrator_pb2


@dataclass
class RescanResult:
    added: list[ModuleManifest] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[ModuleManifest] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def to_proto(self) -> orchestrator_pb2.RescanModulesResponse:
        return orchestrator_pb2.RescanModulesResponse(
            added=[m.id for m in self.added], removed=self.removed,
            changed=[m.id for m in self.changed],
            problems=[orchestrator_pb2.ManifestProblem(file=p.file, field=p.field_path,
                                                       message=p.message, fix=p.fix)
                      for p in self.problems])


def compare(roots: Iterable[Path], running: Mapping[str, ModuleManifest]) -> RescanResult:
    """What a scan of `roots` changes against the `running` modules (by id)."""
    found = scan(roots)
    result = RescanResult(problems=list(found.problems))
    seen = set()
    for manifest in found.manifests:
        seen.add(manifest.id)
        old = running.get(manifest.id)
        if old is None:
            result.added.append(manifest)
        elif old != manifest:
            result.changed.append(manifest)
    # A running module whose file is now invalid keeps running (a typo while editing must not
    # stop it); the problem is reported, and the next good rescan picks up the new file.
    broken = {Path(p.file).resolve() for p in found.problems}
    result.removed = sorted(m for m in set(running) - seen
                            if running[m].path.resolve() not in broken)
    return result
