"""`python -m mediagrid.simulator.proxy ...`: the same as `mediagrid proxy ...` (for a
module.yaml command: {python} is always there, the `mediagrid` script may not be)."""

import argparse
import sys

import mediagrid  # noqa: F401 - before grpc: it turns gRPC's fork support off
from mediagrid.simulator.proxy.command import EPILOG, add_arguments, run_command

parser = argparse.ArgumentParser(prog="python -m mediagrid.simulator.proxy", epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
add_arguments(parser)
sys.exit(run_command(parser.parse_args()))
