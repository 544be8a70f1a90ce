"""The mutation score: every mutant of simulator/mutants/ run with only the checks citing the
rule it breaks; a mutant counts as killed only when the suite fails it on that rule.
Prints each mutant, the survivors, and as last line `mutation_score: PERCENT` (target 100).

    python bench/mutation_score.py [NAME...]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mediagrid.simulator.mutants.score import main

if __name__ == "__main__":
    main(sys.argv[1:])  # exit 0: the figure is the result; survivors are listed above it
