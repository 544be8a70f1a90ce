"""The `mediagrid` command.

Each subcommand lives beside the code it drives, in a module that exposes
`register(subparsers)`; this file only collects them. Exit codes are shared by all
subcommands and documented in docs/cli.md.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from mediagrid import __version__

# Exit codes every subcommand keeps (docs/cli.md).
EXIT_OK = 0
EXIT_FAILURE = 1  # the work ran and failed (a module crashed, a check failed)
EXIT_INVALID = 2  # bad input: usage, an invalid file, an unknown name
EXIT_INTERRUPTED = 130  # stopped with Ctrl-C

# Module path of each command group, in the order `--help` lists them. Each module's
# register() may add more than one command (mediagrid.manifest.command adds validate and module).
COMMANDS: tuple[str, ...] = (
    "mediagrid.manifest.command",
    "mediagrid.simulator.camera.command",
    "mediagrid.reference.orchestrator.command",
    "mediagrid.reference.orchestrator.events.command",
    "mediagrid.conformance.command",
    "mediagrid.simulator.module.command",
    "mediagrid.simulator.proxy.command",
    "mediagrid.simulator.chaos.command",
    "mediagrid.reference.orchestrator.planning.command",
)

DESCRIPTION = """\
mediagrid: run, check and simulate modules of a modular video system.

Modules are processes that own media entities (cameras, transcoders, recorders,
displays) and speak the mediagrid gRPC contract (docs/contract.md).
"""

EPILOG = """\
examples:
  mediagrid validate fixtures/modules/*/module.yaml   check module.yaml files
  mediagrid module run examples/python/hello          run a module from its folder
  mediagrid camera --port 8554                        serve a fake RTSP camera
  mediagrid up                                        the demo stack: pattern and tone,
                                                      recorded and shown in a browser
  mediagrid up --modules examples                     run the orchestrator and its modules
  mediagrid status                                    the modules of a running orchestrator
  mediagrid simulate --fleet 20 --out fleet           write 20 simulated (faulty) modules

exit codes: 0 ok, 1 failure, 2 invalid input, 130 interrupted.
Run `mediagrid COMMAND --help` for the options of one command.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mediagrid",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mediagrid {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for path in COMMANDS:
        importlib.import_module(path).register(subparsers)
    return parser


def _command_parser(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.ArgumentParser:
    """The deepest subcommand parser that args selected (e.g. `module run`), else parser."""
    while True:
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = actions and getattr(args, actions[0].dest or "", None)
        if not chosen or chosen not in actions[0].choices:
            return parser
        parser = actions[0].choices[chosen]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # Report unknown options with the usage of the command they were given to.
        _command_parser(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_INVALID
    try:
        return int(func(args) or EXIT_OK)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
