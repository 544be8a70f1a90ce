"""`mediagrid simulate`: run one simulated module, check scenario files, or write a fleet."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

EPILOG = """\
examples:
  mediagrid simulate fixtures/chaos/modules/camera.yaml
      run one simulated module by hand on a free port (the address is printed; Ctrl-C stops)
  mediagrid simulate scenario.yaml --port 50051
      on a chosen port (GRPC_PORT, when set, wins: that is how an orchestrator starts it)
  mediagrid simulate --fleet 20 --out fleet --seed 7
      write 20 module folders (module.yaml + scenario.yaml) made with faker; the same seed
      writes the same fleet; then: mediagrid up --modules fleet
  mediagrid simulate --check scenario.yaml other.yaml
      check scenario files against the published schema (exit 2 naming each problem)
  mediagrid simulate --print-schema > simulated-module.schema.json

A scenario is YAML: the module's entity types and its faults (latency, errors, hangs,
crashes per RPC; slow start, never READY, flapping or DEGRADED health, growing memory,
late or missing reports). A module with an empty scenario is well-behaved. Faults switch
at run time through the control RPC (mediagrid.simulator.v1.SimulatorControl on the same
port) or by editing the file and sending SIGUSR1. See docs/simulator.md.

exit codes: 0 stopped cleanly (or files written / valid), 1 failure, 2 invalid input.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate", help="run a simulated (faulty) module, or write a fleet of them",
        description="Run a simulated module from a scenario file, check scenario files, or "
                    "write a fleet of simulated module folders.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", nargs="*", type=Path, metavar="SCENARIO.yaml",
                        help="the scenario to run (with --check: the files to check)")
    parser.add_argument("--port", type=int, default=0,
                        help="port when GRPC_PORT is not set (default: a free one)")
    parser.add_argument("--check", action="store_true", help="only check the scenario files")
    parser.add_argument("--print-schema", action="store_true",
                        help="print the scenario's JSON Schema")
    parser.add_argument("--fleet", type=int, metavar="N", help="write N simulated modules")
    parser.add_argument("--out", type=Path, metavar="DIR", help="where --fleet writes")
    parser.add_argument("--seed", type=int, default=0, help="the fleet's seed (default 0)")
    parser.add_argument("--json", action="store_true",
                        help="--check and --fleet: print one JSON document")
    parser.set_defaults(func=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    if args.print_schema:
        from mediagrid.simulator.module.scenario import schema

        print(json.dumps(schema(), indent=2))
        return 0
    if args.fleet is not None:
        return _fleet(args)
    if args.check:
        return _check(args.scenario, args.json)
    if len(args.scenario) != 1:
        print("error: give one SCENARIO.yaml to run (or --fleet N --out DIR, or --check)",
              file=sys.stderr)
        return 2
    return _run(args.scenario[0], args.port)


def _run(path: Path, port: int) -> int:
    from mediagrid.simulator.documents import ScenarioError
    from mediagrid.simulator.module.main import run
    from mediagrid.simulator.module.scenario import load_scenario

    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        print_problems(exc)
        return 2
    env = dict(os.environ)
    if not env.get("GRPC_PORT"):  # by hand: as `mediagrid module run` does
        from mediagrid.process import free_port

        env["GRPC_PORT"] = str(port or free_port(env.get("MEDIAGRID_BIND_HOST") or "127.0.0.1"))
        env.setdefault("MEDIAGRID_MODULE_ID", scenario.id)
        print(f"simulated module {env['MEDIAGRID_MODULE_ID']} on"
              f" {env.get('MEDIAGRID_BIND_HOST') or '127.0.0.1'}:{env['GRPC_PORT']}"
              " (Ctrl-C stops it)", file=sys.stderr, flush=True)
    return run(scenario, env)


def _check(paths: list[Path], as_json: bool) -> int:
    from mediagrid.manifest.report import console, print_verdict
    from mediagrid.simulator.documents import ScenarioError
    from mediagrid.simulator.module.scenario import load_scenario

    if not paths:
        print("error: --check needs scenario files", file=sys.stderr)
        return 2
    verdicts: list[dict[str, Any]] = []
    out = console()
    bad = False
    for path in paths:
        try:
            scenario = load_scenario(path)
            verdicts.append({"file": str(path), "valid": True, "id": scenario.id, "errors": []})
            if not as_json:
                out.print(f"[green]✓[/] {path}  [green]valid[/]  (module {scenario.id},"
                          f" {len(scenario.faults.faults)} RPC fault(s))")
        except ScenarioError as exc:
            bad = True
            verdicts.append({"file": str(path), "valid": False,
                             "errors": [p.to_dict() for p in exc.problems]})
            if not as_json:
                print_verdict(out, str(path), exc)
    if as_json:
        print(json.dumps({"ok": not bad, "files": verdicts}, indent=2))
    return 2 if bad else 0


def print_problems(exc: Exception) -> None:
    from mediagrid.manifest.report import console, print_problem

    out = console(stderr=True)
    out.print("[red]invalid scenario[/]")
    for problem in exc.problems:  # type: ignore[attr-defined]
        print_problem(out, problem)


def _fleet(args: argparse.Namespace) -> int:
    from mediagrid.simulator.fleet import make_fleet, write_fleet

    if args.out is None or args.fleet < 1:
        print("error: --fleet N needs N >= 1 and --out DIR (the folder to write into)",
              file=sys.stderr)
        return 2
    if args.out.exists() and any(args.out.iterdir()):
        print(f"error: --out {args.out} is not empty: give a new or empty folder",
              file=sys.stderr)
        return 2
    fleet = make_fleet(args.fleet, seed=args.seed)
    folders = write_fleet(args.out, fleet, seed=args.seed)
    if args.json:
        print(json.dumps({"ok": True, "seed": args.seed, "modules": [
            {"id": m.id, "folder": str(f), "entity_types": [t["type"] for t in m.entity_types],
             **m.facts} for m, f in zip(fleet, folders, strict=True)]}, indent=2))
        return 0
    from rich.table import Table

    from mediagrid.manifest.report import console

    table = Table(title=f"{len(fleet)} simulated modules in {args.out} (seed {args.seed})")
    for column in ("module", "entity types", "site", "vendor"):
        table.add_column(column)
    for module in fleet:
        table.add_row(module.id, ", ".join(t["type"] for t in module.entity_types),
                      module.facts["site"], module.facts["vendor"])
    console().print(table)
    console().print(f"run them: mediagrid up --modules {args.out}")
    return 0
