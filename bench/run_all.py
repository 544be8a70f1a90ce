"""Runs every benchmark in bench/ (except this file) one after another; prints their figures.

Each benchmark prints details and, as its last line, `name: value`. This runner shows each
one's last line, then all of them together. Exit code 1 when any benchmark failed.

    python bench/run_all.py                 # every benchmark
    python bench/run_all.py sdk_health      # only those whose file name contains a word
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="run only benchmarks whose name contains one")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per benchmark")
    args = parser.parse_args()
    scripts = [p for p in sorted(HERE.glob("*.py"))
               if p.name != Path(__file__).name and not p.name.startswith("_")
               and (not args.only or any(word in p.stem for word in args.only))]
    results: list[str] = []
    failed = False
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.monotonic()
        try:
            done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                                  timeout=args.timeout, cwd=HERE.parent)
        except subprocess.TimeoutExpired:
            results.append(f"{script.stem}: TIMEOUT after {args.timeout:.0f} s")
            failed = True
            continue
        lines = done.stdout.strip().splitlines()
        last = lines[-1] if lines else "(no output)"
        if done.returncode != 0:
            failed = True
            tail = done.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
            last = f"{script.stem}: FAILED (exit {done.returncode}): {tail[0]}"
        print(f"   {last}   [{time.monotonic() - started:.1f} s]", flush=True)
        results.append(last)
    print("== figures")
    for line in results:
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
