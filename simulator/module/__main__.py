"""`python -m mediagrid.simulator.module SCENARIO.yaml`: one simulated module process."""

import sys

import mediagrid  # noqa: F401 - before grpc: it turns gRPC's fork support off
from mediagrid.simulator.module.main import main

sys.exit(main())
