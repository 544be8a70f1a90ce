"""`python -m mediagrid.simulator.mutants NAME`: runs one mutant (or `well-behaved`) from the
module.yaml in the current folder."""

from __future__ import annotations

import sys
from pathlib import Path

from mediagrid import sdk
from mediagrid.simulator.mutants import base
from mediagrid.simulator.mutants.catalogue import BY_NAME, WELL_BEHAVED


def main() -> None:
    name = sys.argv[1] if len(sys.argv) == 2 else ""
    if name != WELL_BEHAVED and name not in BY_NAME:
        sys.exit(f"usage: python -m mediagrid.simulator.mutants NAME; NAME is {WELL_BEHAVED} "
                 f"or one of {', '.join(BY_NAME)}")
    mutant = BY_NAME.get(name)
    if mutant is not None and mutant.patch is not None:
        mutant.patch()
    if mutant is not None and mutant.flag:
        base.FLAGS.add(mutant.flag)
    sdk.serve(base.build(Path("module.yaml")))


if __name__ == "__main__":
    main()
