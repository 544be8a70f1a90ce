"""The distribution installs one top-level package, mediagrid, with the mapped folders inside."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support import ROOT


def _tracked_copy(dest: Path) -> Path:
    """The files git tracks, copied to dest: building there leaves no build/ in the checkout."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def test_wheel_maps_top_level_folders_into_mediagrid(tmp_path: Path) -> None:
    source = _tracked_copy(tmp_path / "src")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("mediagrid-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top_level == {"mediagrid"}, f"bare top-level packages installed: {top_level}"
    for package in ("reference", "simulator", "conformance", "v1", "sdk", "manifest"):
        assert f"mediagrid/{package}/__init__.py" in names, package
    assert "mediagrid/v1/module_pb2.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "mediagrid = mediagrid.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
