"""The full conformance suite against the example module (examples/python/hello), timed.
Target: under 30 s on 2 cores. Last line: `conformance_seconds: S`.

    python bench/conformance_seconds.py
"""

import sys

from _conformance import ROOT, measure

if __name__ == "__main__":
    sys.exit(measure(ROOT / "examples" / "python" / "hello", "conformance_seconds"))
