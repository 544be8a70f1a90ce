"""The full conformance suite against the Node.js module (examples/node-module; run
`npm ci --prefix examples/node-module` first), timed. Last line: `conformance_seconds_node: S`.

    python bench/conformance_seconds_node.py
"""

import sys

from _conformance import ROOT, measure

if __name__ == "__main__":
    sys.exit(measure(ROOT / "examples" / "node-module", "conformance_seconds_node"))
