"""The mediagrid conformance suite: checks a module against docs/contract.md, rule by rule.

    mediagrid conformance MODULE_DIR            (command line, docs/conformance.md)
    pytest --mediagrid-module MODULE_DIR        (pytest plugin)

    from mediagrid.conformance.runner import Options, run_suite
    report = await run_suite(load_manifest("my-module"), Options(rules=("H-*",)))
"""

import os

# The suite spawns processes (the module, ffmpeg) while gRPC threads run; without this gRPC
# prints a line about fork handlers for every spawn.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
