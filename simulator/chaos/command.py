"""`mediagrid chaos SCENARIO.yaml`: a chaos run against an orchestrator, with its report."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from pathlib import Path
from typing import Any

EPILOG = """\
examples:
  mediagrid chaos fixtures/chaos/mixed.yaml --seed 1
      the mixed scenario against the reference orchestrator; prints the report
  mediagrid chaos fixtures/chaos/crash-loop.yaml --report crash-loop.json
      the same report as JSON in a file too
  mediagrid chaos fixtures/chaos/hang.yaml --duration 10m
      a soak run: the nemesis acts for ten minutes
  mediagrid chaos fixtures/chaos/mixed.yaml --seed 7 --plan
      only print the timeline seed 7 draws (the same seed, the same timeline)
  mediagrid chaos fixtures/chaos/mixed.yaml \\
      --orchestrator "my-orchestrator --modules {modules} --listen {address} --db {state}"
      measure another orchestrator: any command, with placeholders {python}, {modules},
      {address} (where it must serve OrchestratorService) and {state} (its state file)

The run starts the orchestrator and the scenario's modules, drives a workload through
OrchestratorService, follows the event stream with reconnecting subscribers, applies the
nemesis (SIGKILL, SIGSTOP, proxy toxics, fault switches, orchestrator SIGKILL and restart,
rescans), heals, waits for quiet and checks: modules READY (or ERROR by H-17), desired
state converged, every acknowledged report delivered exactly once and in order, no orphan
processes or leaked ports, every fault classified as expected. See docs/chaos.md.

exit codes: 0 every invariant holds, 1 an invariant is broken (or the run failed),
2 invalid input, 130 interrupted.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "chaos", help="chaos-test an orchestrator: faults, recovery times, invariants",
        description="Run a chaos scenario against an orchestrator (the reference one by "
                    "default) and report how it recovered.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", nargs="?", type=Path, metavar="SCENARIO.yaml")
    parser.add_argument("--seed", type=int, help="the run's seed (default: the scenario's)")
    parser.add_argument("--duration", metavar="D", help="how long the nemesis acts, like 30s"
                                                        " or 10m (default: the scenario's)")
    parser.add_argument("--quiet", metavar="D", help="the longest wait for recovery after"
                                                     " healing (default: the scenario's)")
    parser.add_argument("--report", type=Path, metavar="FILE.json",
                        help="write the report as JSON there too")
    parser.add_argument("--orchestrator", metavar="COMMAND",
                        help="the orchestrator to test, a command line with placeholders")
    parser.add_argument("--plan", action="store_true", help="only print the timeline")
    parser.add_argument("--json", action="store_true",
                        help="print the report as one JSON document on stdout")
    parser.add_argument("--workdir", type=Path, metavar="DIR",
                        help="keep the run's files here (module folders, journals, logs)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary run folder")
    parser.add_argument("--print-schema", action="store_true",
                        help="print the chaos scenario's JSON Schema")
    parser.set_defaults(func=_chaos)


def _duration(text: str | None, default: float, flag: str) -> float:
    from mediagrid.manifest.durations import parse_duration

    if text is None:
        return default
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise SystemExit(f"error: {flag}: {exc}") from None


def _chaos(args: argparse.Namespace) -> int:
    if args.print_schema:
        from mediagrid.simulator.chaos.scenario import schema

        print(json.dumps(schema(), indent=2))
        return 0
    if args.scenario is None:
        print("error: give a SCENARIO.yaml (for example fixtures/chaos/mixed.yaml)",
              file=sys.stderr)
        return 2
    from mediagrid.simulator.chaos.runner import ChaosRun, RunOptions
    from mediagrid.simulator.chaos.scenario import load_chaos_scenario
    from mediagrid.simulator.documents import ScenarioError

    try:
        scenario = load_chaos_scenario(args.scenario)
    except ScenarioError as exc:
        from mediagrid.simulator.module.command import print_problems

        print_problems(exc)
        return 2
    try:
        options = RunOptions(
            seed=scenario.seed if args.seed is None else args.seed,
            duration=_duration(args.duration, scenario.duration, "--duration"),
            quiet=_duration(args.quiet, scenario.quiet, "--quiet"),
            orchestrator=tuple(shlex.split(args.orchestrator)) if args.orchestrator else None,
            workdir=args.workdir, keep=args.keep)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.workdir is not None and args.workdir.exists() and any(args.workdir.iterdir()):
        print(f"error: --workdir {args.workdir} is not empty: give a new or empty folder",
              file=sys.stderr)
        return 2
    run = ChaosRun(scenario, options)
    if args.plan:
        return _print_plan(run, args.json)
    try:
        report = asyncio.run(run.run())
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, or SIGTERM
        print("interrupted: the orchestrator and every module were stopped", file=sys.stderr)
        return 130
    except Exception as exc:  # the run itself could not go on (the orchestrator never served)
        print(f"error: the chaos run failed: {exc}", file=sys.stderr)
        return 1
    document = report.to_dict()
    if args.report is not None:
        args.report.write_text(json.dumps(document, indent=2) + "\n")
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        from rich.console import Console

        console = Console(highlight=False)
        if not console.is_terminal:  # a file or a pipe: wide enough for every column
            console = Console(highlight=False, width=140)
        report.show(console)
    return 0 if report.ok else 1


def _print_plan(run: Any, as_json: bool) -> int:
    actions = run.plan()
    if as_json:
        print(json.dumps({"scenario": run.scenario.name, "seed": run.options.seed,
                          "duration_s": run.options.duration,
                          "timeline": [a.to_dict() for a in actions]}, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{run.scenario.name}: the timeline of seed {run.options.seed}")
    for column in ("t (s)", "kind", "module", "for (s)", "expected", "fault kind"):
        table.add_column(column)
    for a in actions:
        table.add_row(f"{a.at:.2f}", a.kind, a.module or "-", f"{a.lasting:g}", a.expect,
                      a.label)
    Console().print(table)
    return 0
