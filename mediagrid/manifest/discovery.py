"""discover(): find every module.yaml under some folders (the orchestrator's module scan)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mediagrid.manifest.files import SKIP_DIRS, find_manifest_files
from mediagrid.manifest.loader import load_manifest
from mediagrid.manifest.model import ManifestError, ModuleManifest, Problem

__all__ = ["SKIP_DIRS", "Discovery", "discover", "find_manifest_files", "scan"]


@dataclass
class Discovery:
    """What a scan found: the valid manifests (first of each id) and every problem."""

    manifests: list[ModuleManifest] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def scan(roots: Iterable[str | os.PathLike[str]]) -> Discovery:
    """Loads every module.yaml under `roots`; collects problems instead of raising, so one
    bad file does not hide the good ones. A second module with an id already seen is left
    out, with an error naming both files."""
    found = Discovery()
    by_id: dict[str, ModuleManifest] = {}
    for root in map(Path, roots):
        if not root.exists():
            found.problems.append(Problem(str(root), "", "no such folder",
                                          "check the modules path"))
            continue
        for file in find_manifest_files([root]):
            try:
                manifest = load_manifest(file)
            except ManifestError as exc:
                found.problems.extend(exc.problems)
                continue
            first = by_id.get(manifest.id)
            if first is not None and first.path == manifest.path:
                continue  # the same file reached through two roots
            if first is not None:
                found.problems.append(Problem(
                    str(file), "id",
                    f'duplicate module id "{manifest.id}": {first.path} declares it too',
                    "give each module its own id",
                ))
                continue
            by_id[manifest.id] = manifest
            found.manifests.append(manifest)
    return found


def discover(roots: Iterable[str | os.PathLike[str]]) -> list[ModuleManifest]:
    """Every module under `roots`, in path order. Raises ManifestError listing every
    problem (invalid files, duplicate ids) if there is any; use scan() to keep going."""
    found = scan(roots)
    if found.problems:
        raise ManifestError(found.problems)
    return found.manifests
