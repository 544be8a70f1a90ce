"""Every folder of fixtures/invalid-modules is rejected with the message in its expected.txt."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediagrid.manifest import ManifestError, load_manifest
from tests.support import ROOT

CASES = sorted(p for p in (ROOT / "fixtures" / "invalid-modules").iterdir() if p.is_dir())


def test_there_are_many_cases() -> None:
    assert len(CASES) >= 20
    for case in CASES:
        assert (case / "expected.txt").is_file(), f"{case} has no expected.txt"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_invalid_fixture_message(case: Path) -> None:
    expected = (case / "expected.txt").read_text().strip()
    with pytest.raises(ManifestError) as caught:
        load_manifest(case)
    text = str(caught.value)
    file = str(case / "module.yaml")
    # The message names the file, then the field (when there is one), the problem and a fix.
    assert f"{file}: {expected}" in text, text
    assert all(p.file == file and p.message and p.fix for p in caught.value.problems)
    assert all(p.severity == "error" for p in caught.value.problems)
