"""mediagrid: a gRPC contract for modular video systems.

Subpackages:
    mediagrid.v1           generated protobuf and gRPC stubs (do not edit; `tox -e proto`)
    mediagrid.manifest     module.yaml: schema, loader, validation
    mediagrid.sdk          the kit a Python module author builds on
    mediagrid.reference    orchestrator, ffmpeg media modules, config service
    mediagrid.simulator    faulty modules, fault proxy, fake RTSP camera, chaos runner
    mediagrid.conformance  the conformance suite
"""

import os as _os

__version__ = "0.1.0"

# Every child the project starts gets a preexec_fn (mediagrid.process: it dies with its
# parent), and preexec_fn makes Python run its at-fork hooks in the child. With gRPC's fork
# support on, gRPC's hooks then run in a child forked while gRPC threads are busy and can
# crash it (SIGSEGV) before it execs: about one spawn in six from a busy orchestrator.
# mediagrid never uses gRPC across a fork (every child execs at once), so fork support is
# off unless the environment says otherwise. gRPC reads the variable when it is first
# imported: hence here, before any mediagrid module imports grpc.
_os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
