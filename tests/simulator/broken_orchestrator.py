"""An orchestrator with a planted bug, for the chaos runner's test that it fails naming the
invariant: the reference orchestrator (`mediagrid up`, same arguments) whose re-creation of a
module's desired state after a restart does nothing (rule H-15 broken). The module still
comes back READY, so only the runner's check of what the module holds can tell.

    python tests/simulator/broken_orchestrator.py --modules DIR --address HOST:PORT --state FILE
"""

import sys

import mediagrid  # noqa: F401 - before grpc: it turns gRPC's fork support off
from mediagrid.cli import main
from mediagrid.reference.orchestrator import app
from mediagrid.reference.orchestrator.recovery import Recovery
from mediagrid.reference.orchestrator.supervision.supervisor import ModuleSupervisor


class Forgetful(Recovery):
    """The planted bug: a restarted module gets nothing back."""

    async def recover(self, module: ModuleSupervisor) -> None:
        module.recovered_instance = module.view.instance_id  # "done", having done nothing


app.Recovery = Forgetful  # type: ignore[misc] - used by Orchestrator.start

if __name__ == "__main__":
    sys.exit(main(["up", *sys.argv[1:]]))
