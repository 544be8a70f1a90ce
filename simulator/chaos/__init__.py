"""The chaos runner: `mediagrid chaos SCENARIO.yaml` starts an orchestrator (the reference
one, or any command) with simulated and real modules, drives a workload and subscribers,
applies a nemesis schedule, heals, and checks the invariants (docs/chaos.md).

    from mediagrid.simulator.chaos import ChaosRun, RunOptions, load_chaos_scenario
    report = await ChaosRun(load_chaos_scenario(path), RunOptions(seed=1, duration=20,
                                                                  quiet=30)).run()
"""

from mediagrid.simulator.chaos.runner import ChaosRun, RunOptions
from mediagrid.simulator.chaos.scenario import ChaosScenario, load_chaos_scenario

__all__ = ["ChaosRun", "ChaosScenario", "RunOptions", "load_chaos_scenario"]
