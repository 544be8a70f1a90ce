"""Regenerates the Python stubs in mediagrid/v1/ from proto/mediagrid/v1/*.proto.

Run it as `tox -e proto` (or `python proto/generate.py`). `--check` regenerates into a
temporary folder and exits 1 if the committed stubs differ, naming the files.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE_DIR = Path("mediagrid") / "v1"
INIT = (
    '"""Generated protobuf and gRPC stubs of the mediagrid.v1 contract.'
    ' Do not edit: `tox -e proto`."""\n'
)


def generate(out_root: Path) -> list[Path]:
    """Writes the stubs for every .proto under proto/mediagrid/v1 into out_root/mediagrid/v1."""
    import grpc_tools
    from grpc_tools import protoc

    protos = sorted((PROTO_ROOT / PACKAGE_DIR).glob("*.proto"))
    if not protos:
        raise SystemExit(f"no .proto files under {PROTO_ROOT / PACKAGE_DIR}")
    (out_root / PACKAGE_DIR).mkdir(parents=True, exist_ok=True)
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *(str(p.relative_to(PROTO_ROOT)) for p in protos),
    ]
    # protoc resolves the relative proto paths against -I roots.
    import os

    cwd = os.getcwd()
    os.chdir(PROTO_ROOT)
    try:
        code = protoc.main(args)
    finally:
        os.chdir(cwd)
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")
    (out_root / PACKAGE_DIR / "__init__.py").write_text(INIT)
    return sorted((out_root / PACKAGE_DIR).glob("*.py*"))


def drift(committed_root: Path) -> list[str]:
    """Names of stub files that differ between a fresh generation and committed_root."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p for p in generate(Path(tmp))}
        have = {p.name: p for p in (committed_root / PACKAGE_DIR).glob("*.py*")}
        differ = [
            n for n in fresh if n not in have or not filecmp.cmp(fresh[n], have[n], shallow=False)
        ]
        extra = [n for n in have if n not in fresh]
        return sorted(differ + extra)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    args = parser.parse_args()
    if args.check:
        stale = drift(ROOT)
        if stale:
            print("stubs out of date: " + ", ".join(stale) + "\nrun: tox -e proto", file=sys.stderr)
            return 1
        print("stubs match the .proto files")
        return 0
    for path in generate(ROOT):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
