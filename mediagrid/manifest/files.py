"""Where module.yaml files are: the file name, a folder's manifest, and the walk that finds
every manifest under some folders (used by the loader's hints and by discovery)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

MANIFEST_NAME = "module.yaml"

# Folders never scanned: tool caches and dependency trees that may hold other module.yaml files.
SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})


def manifest_file(path: str | os.PathLike[str]) -> Path:
    """A folder means folder/module.yaml."""
    path = Path(path)
    return path / MANIFEST_NAME if path.is_dir() else path


def find_manifest_files(roots: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """module.yaml files under each root, sorted, skipping hidden folders and SKIP_DIRS.
    A root that is itself a module.yaml file is yielded as is."""
    for root in map(Path, roots):
        if root.is_file():
            yield root
            continue
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
            if MANIFEST_NAME in files:
                yield Path(folder) / MANIFEST_NAME
