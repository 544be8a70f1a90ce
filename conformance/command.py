"""`mediagrid conformance`: check a module against the contract, rule by rule."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

EXIT_INVALID = 2

DESCRIPTION = """\
Check a module against the mediagrid contract (docs/contract.md), rule by rule.

The suite plays the orchestrator: it starts the module as the orchestrator would (GRPC_PORT,
MEDIAGRID_* environment, own process group), serves it a real EventService, runs every check
(each citing the rule IDs it enforces) and stops it with the shutdown ladder. Pipeline checks
move real media both ways. Everything it creates is named with a per-run prefix and torn down.
"""

EPILOG = """\
examples:
  mediagrid conformance examples/python/hello
      start the module from its folder and run every check
  mediagrid conformance examples/node-module --rules 'H-*,E-3'
      only the checks citing health rules and E-3
  mediagrid conformance --address 127.0.0.1:50051 --manifest my-module/module.yaml \\
      --event-port 50099
      check a module that already runs (started with
      MEDIAGRID_ORCHESTRATOR_ADDRESS=127.0.0.1:50099 so the event checks can run)
  mediagrid conformance examples/python/hello --json report.json --junit-xml junit.xml
  mediagrid conformance --list                 every check with the rules it cites
  mediagrid conformance examples/python/hello --coverage
      and which RPC, request field and enum value the checks exercised

exit codes:
  0  every required (MUST) rule passed and nothing was skipped
  1  a check failed (the report names the rule, the calls, and a re-run line)
  2  invalid input: bad arguments, an invalid module.yaml
  3  partial: nothing failed, but some checks were skipped (each skip says why)
  4  could not run: the module did not start or did not answer
  130 interrupted
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "conformance", help="check a module against the contract, rule by rule",
        description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module", nargs="?", metavar="MODULE_DIR_OR_YAML",
                        help="the module's folder or its module.yaml (launch mode)")
    parser.add_argument("--address", metavar="HOST:PORT",
                        help="check a module already running there (needs --manifest)")
    parser.add_argument("--manifest", metavar="MODULE_YAML", help="module.yaml for --address")
    parser.add_argument("--rules", metavar="PATTERNS", default="",
                        help="comma-separated rule IDs, globs or check names: 'H-*,E-3'")
    parser.add_argument("--seed", type=int, help="replay a run's check order")
    parser.add_argument("--json", metavar="FILE", dest="json_file",
                        help="write the report as JSON ('-' for stdout)")
    parser.add_argument("--junit-xml", metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("--event-port", type=int, default=0, metavar="PORT",
                        help="serve the suite's EventService on this port (with --address)")
    parser.add_argument("--token", default=os.environ.get("MEDIAGRID_TOKEN", ""),
                        help="bearer token to send (default: $MEDIAGRID_TOKEN)")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    parser.add_argument("--coverage", action="store_true",
                        help="after the report, the coverage matrix: every RPC, request field "
                        "and enum value of the proto descriptors, with the checks that "
                        "exercised it, and what none did (in --json too)")
    parser.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"mediagrid conformance: {message}", file=sys.stderr)
    return EXIT_INVALID


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from mediagrid.conformance import report as reports
    from mediagrid.conformance.registry import all_checks
    from mediagrid.conformance.runner import Options, run_suite, select
    from mediagrid.manifest import ManifestError, load_manifest

    patterns = tuple(p.strip() for p in args.rules.split(",") if p.strip())
    if args.list:
        for check in select(all_checks(), patterns):
            print(f"{check.name:45} {','.join(check.rules):24} {check.profile:13} {check.title}")
        return 0
    if patterns and not select(all_checks(), patterns):
        return _fail(f"--rules {args.rules!r} selects no check; see --list")
    if args.address and args.module:
        return _fail("give MODULE_DIR_OR_YAML (the suite starts it) or --address, not both")
    if args.address and not args.manifest:
        return _fail("--address needs --manifest module.yaml (the suite reads the entity types)")
    if not args.address and not args.module:
        return _fail("give the module's folder or module.yaml, or --address with --manifest")
    if args.address and args.address.rpartition(":")[2].isdigit() is False:
        return _fail(f"--address {args.address!r} is not HOST:PORT")
    path = args.manifest if args.address else args.module
    try:
        manifest = load_manifest(path)
    except ManifestError as exc:
        from mediagrid.conformance.checks.manifest import rule_of_problem

        print(exc, file=sys.stderr)
        rules = sorted({rule_of_problem(p.field_path, p.message) for p in exc.problems})
        print(f"mediagrid conformance: module.yaml breaks rule {', '.join(rules)} (MUST): a "
              "module ships a module.yaml valid against the published schema; fix the "
              "problems above", file=sys.stderr)
        return EXIT_INVALID
    console = Console(stderr=args.json_file == "-")
    live = console.is_terminal
    if not live:  # a log or a CI page: long lines rather than a narrow wrapped table
        console = Console(stderr=args.json_file == "-", width=140)

    def progress(result: Any, done: int, total: int) -> None:
        line = reports.progress_line(result, done, total)
        if live:
            console.print(f"{line[:console.width - 1]:<{console.width - 1}}", end="\r",
                          highlight=False, markup=False)
        elif result.outcome == "fail":
            console.print(line, highlight=False, markup=False)

    options = Options(rules=patterns, seed=args.seed, address=args.address or "",
                      token=args.token, event_port=args.event_port, progress=progress)
    console.print(f"checking {manifest.id} ({manifest.path}); seed {options.seed or 'random'}",
                  highlight=False)
    report = asyncio.run(run_suite(manifest, options))
    report.command = (reports.shell_join(["--address", args.address, "--manifest", path])
                      if args.address else reports.shell_join([path]))
    if live:
        console.print(" " * (console.width - 1), end="\r")
    reports.print_report(report, console)
    body = reports.to_json(report)
    if args.coverage:
        from mediagrid.conformance import coverage

        table = coverage.matrix(report, report.recorder)  # type: ignore[arg-type]
        coverage.print_matrix(table, console)
        body["coverage"] = coverage.to_json(table)
    if args.json_file == "-":
        import json

        print(json.dumps(body, indent=2))
    elif args.json_file:
        import json

        Path(args.json_file).write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    if args.junit_xml:
        reports.write_junit(report, Path(args.junit_xml))
    return report.exit_code
