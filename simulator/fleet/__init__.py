"""Fleets of simulated modules: `mediagrid simulate --fleet N --out DIR --seed S` writes N
module folders (module.yaml + scenario.yaml) with realistic names, entity types and
capabilities made with faker. The same seed gives the same fleet, byte for byte.

    from mediagrid.simulator.fleet import make_fleet, write_fleet
    write_fleet(Path("fleet"), make_fleet(20, seed=7))
"""

from mediagrid.simulator.fleet.generate import FleetModule, make_fleet
from mediagrid.simulator.fleet.write import module_document, write_fleet, write_module

__all__ = ["FleetModule", "make_fleet", "module_document", "write_fleet", "write_module"]
