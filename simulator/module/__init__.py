"""The simulated module: an SDK module with in-memory entities that move real MPEG-TS,
well-behaved by default, with per-RPC and process faults from a scenario, switchable at run
time (docs/simulator.md).

    from mediagrid.simulator.module import load_scenario, ControlClient
"""

from mediagrid.simulator.module.control import ControlClient
from mediagrid.simulator.module.scenario import (
    Fault,
    FaultSet,
    ModuleScenario,
    check_faults,
    load_scenario,
    parse_faults,
)

__all__ = ["ControlClient", "Fault", "FaultSet", "ModuleScenario", "check_faults",
           "load_scenario", "parse_faults"]
