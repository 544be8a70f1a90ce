"""discover() and scan(): recursive module.yaml search, duplicate ids, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediagrid.manifest import ManifestError, discover, find_manifest_files, scan
from tests.support import ROOT


def module(folder: Path, module_id: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "module.yaml").write_text(f'id: {module_id}\ncommand: ["{{python}}", "-m", "x"]\n')
    return folder / "module.yaml"


def test_discover_scans_recursively_in_path_order(tmp_path: Path) -> None:
    module(tmp_path / "b" / "deep" / "er", "b")
    module(tmp_path / "a", "a")
    module(tmp_path / ".hidden", "hidden")
    module(tmp_path / "node_modules" / "pkg", "vendored")
    other = tmp_path.parent / (tmp_path.name + "-other")
    module(other / "c", "c")
    found = discover([tmp_path, other])
    assert [m.id for m in found] == ["a", "b", "c"]
    assert found[0].path == tmp_path / "a" / "module.yaml"


def test_duplicate_ids_name_both_files(tmp_path: Path) -> None:
    first = module(tmp_path / "one", "same")
    second = module(tmp_path / "two", "same")
    module(tmp_path / "three", "unique")
    with pytest.raises(ManifestError) as caught:
        discover([tmp_path])
    [problem] = caught.value.problems
    assert problem.file == str(second) and problem.field_path == "id"
    assert str(first) in problem.message and 'duplicate module id "same"' in problem.message
    found = scan([tmp_path])  # scan keeps going: the first of the two, and the others
    assert [m.id for m in found.manifests] == ["same", "unique"]
    assert found.manifests[0].path == first


def test_same_file_through_two_roots_is_not_a_duplicate(tmp_path: Path) -> None:
    module(tmp_path / "one", "one")
    assert [m.id for m in discover([tmp_path, tmp_path / "one"])] == ["one"]


def test_scan_collects_invalid_files_and_missing_roots(tmp_path: Path) -> None:
    found = scan([ROOT / "fixtures" / "invalid-modules", tmp_path / "missing"])
    assert found.manifests == []
    files = {p.file for p in found.problems}
    assert len(files) == len(list((ROOT / "fixtures" / "invalid-modules").iterdir())) + 1
    assert any(p.message == "no such folder" for p in found.problems)


def test_discover_the_valid_fixtures() -> None:
    ids = {m.id for m in discover([ROOT / "fixtures" / "modules"])}
    assert {"rtsp-source", "transcoder", "recorder", "display", "tiny", "minimal"} <= ids


def test_a_root_that_is_a_module_yaml_is_found_as_is(tmp_path: Path) -> None:
    """find_manifest_files() takes a module.yaml file as a root, not only folders (audit-12
    M05: a file root was walked as a folder and found nothing)."""
    file = module(tmp_path / "alpha", "alpha")
    module(tmp_path / "beta", "beta")
    assert [m.id for m in discover([file])] == ["alpha"]
    assert list(find_manifest_files([file, tmp_path])) == [
        file, tmp_path / "alpha" / "module.yaml", tmp_path / "beta" / "module.yaml"]
