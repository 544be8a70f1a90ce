"""`mediagrid up`, `mediagrid status`, `mediagrid restart` (docs/orchestrator.md).

`up` runs the orchestrator in the foreground (up.py); `status` and `restart` are clients of a
running one (status.py). Heavy imports happen inside the commands, so `mediagrid --help`
stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mediagrid.reference.orchestrator.dial import add_tls_options, requested_tls

DEFAULT_ADDRESS = "127.0.0.1:50050"
DEFAULT_STATE = "mediagrid-state.sqlite"
DEMO_STATE = "mediagrid-demo/state.sqlite"
DEFAULT_METRICS = "127.0.0.1:9464"

UP_EPILOG = """\
examples:
  mediagrid up
      the demo: a test pattern and a tone, transcoded, recorded to ./mediagrid-demo/ and
      shown in a window (where there is a display) and a browser preview; prints the
      preview URL and `recording: PATH`; Ctrl-C leaves a playable recording
  mediagrid up --stack fixtures/stacks/camera.yaml
      a whole system from a stack file: modules, entities, pipelines, module configurations
  mediagrid up --modules examples
      start every module found under examples/; Ctrl-C stops them all cleanly
  mediagrid up --modules examples fixtures/modules --address 127.0.0.1:6000
      two module folders, another port
  mediagrid up --modules ./modules --state /var/lib/mediagrid/state.sqlite
      keep the desired state and the event log elsewhere than the current folder

Each module is started with GRPC_PORT, MEDIAGRID_MODULE_ID, MEDIAGRID_BIND_HOST,
MEDIAGRID_ORCHESTRATOR_ADDRESS (and MEDIAGRID_TOKEN, MEDIAGRID_TLS_* when set here) in its
environment, health-checked, restarted when it crashes or hangs, and given back the
entities, connections and flows services asked for. Its output is shown with its id in
front. An invalid module.yaml is reported and skipped; the others start.
Ctrl-C (or SIGTERM) stops every module (Shutdown, then SIGTERM, then SIGKILL) and exits 0;
a second Ctrl-C kills them at once (exit 130). SIGHUP rescans the module folders.
Security: MEDIAGRID_TOKEN requires the token on every call (and gives it to the modules);
MEDIAGRID_TLS_CERT_FILE and MEDIAGRID_TLS_KEY_FILE serve TLS only (with
MEDIAGRID_TLS_CLIENT_CA_FILE: mutual TLS).

exit codes:
  0    stopped cleanly (Ctrl-C or SIGTERM)
  1    could not start (the address is in use, ...)
  2    invalid input: a module folder that does not exist, a bad --address, the state
       file used by another orchestrator
  130  a second Ctrl-C: the modules were killed at once
"""

STATUS_EPILOG = """\
examples:
  mediagrid status
      a table of the modules of the orchestrator on 127.0.0.1:50050
  mediagrid status --json | jq '.modules[] | select(.status.state != "MODULE_STATE_READY")'
      the modules that are not READY, for a script

exit codes:
  0  the orchestrator answered
  1  no orchestrator answered at the address (or it refused the call)
"""

RESTART_EPILOG = """\
examples:
  mediagrid restart hello
      restart the module hello (also after it gave up and stayed in ERROR)
  mediagrid restart hello --wait
      and wait until it is READY again (exit 1 if it is not within 60 s)

exit codes:
  0  restarted (with --wait: and READY)
  1  no orchestrator answered, or with --wait the module did not become READY
  2  no module has that id
"""


def _client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", default=DEFAULT_ADDRESS, metavar="HOST:PORT",
                        help=f"the orchestrator (default {DEFAULT_ADDRESS})")
    add_tls_options(parser)  # MEDIAGRID_TOKEN is sent when set
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document on stdout (also on failure: ok false)")


def register(subparsers: Any) -> None:
    up = subparsers.add_parser(
        "up", help="run the orchestrator: start, supervise and restart modules",
        description="Run the reference orchestrator in the foreground: find every "
                    "module.yaml under the module folders, start each module, show it as "
                    "it comes up, and keep it running until Ctrl-C.",
        epilog=UP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    up.add_argument("--modules", nargs="+", default=[], type=Path, metavar="DIR",
                    help="folders scanned (recursively) for module.yaml files, or module.yaml"
                         " files themselves")
    up.add_argument("--stack", type=Path, metavar="FILE",
                    help="a stack file (docs/stacks.md): its module folders, entities,"
                         " pipelines and module configurations are applied once the modules"
                         " are READY. With neither --modules nor --stack: the demo stack")
    up.add_argument("--metrics", default=DEFAULT_METRICS, metavar="HOST:PORT",
                    help=f"where /metrics (Prometheus) is served (default {DEFAULT_METRICS};"
                         " port 0 picks a free one; 'off' serves none)")
    up.add_argument("--address", default=DEFAULT_ADDRESS, metavar="HOST:PORT",
                    help=f"where OrchestratorService and EventService listen (default"
                         f" {DEFAULT_ADDRESS}; loopback unless you say otherwise)")
    up.add_argument("--state", type=Path, metavar="FILE",
                    help=f"the SQLite state file: desired state and event log (default"
                         f" ./{DEFAULT_STATE}; for the demo ./{DEMO_STATE}); the same file"
                         " brings everything back after a restart")
    up.add_argument("--retain-events", type=_positive(int), default=100_000, metavar="N",
                    help="envelopes the event log keeps (default 100000) ...")
    up.add_argument("--retain-seconds", type=_positive(float), default=24 * 3600.0,
                    metavar="S", help="... and for how long (default 86400): whichever keeps"
                                      " fewer; an older cursor is OUT_OF_RANGE")
    up.set_defaults(func=_up)

    status = subparsers.add_parser(
        "status", help="show the modules of a running orchestrator",
        description="Ask a running orchestrator for its modules: state, health, address, "
                    "pid, restarts and the last error.",
        epilog=STATUS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _client_options(status)
    status.set_defaults(func=_status)

    restart = subparsers.add_parser(
        "restart", help="restart a module of a running orchestrator",
        description="Restart one module (from any state: also after the orchestrator gave up "
                    "on it). Its entities, connections and flows come back with it.",
        epilog=RESTART_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    restart.add_argument("module", metavar="MODULE", help="the module's id")
    restart.add_argument("--reason", default="mediagrid restart",
                         help="why, for the MODULE_RESTARTED event")
    restart.add_argument("--wait", action="store_true",
                         help="wait until the module is READY again (up to 60 s)")
    _client_options(restart)
    restart.set_defaults(func=_restart)


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
        return value
    return parse


def _up(args: argparse.Namespace) -> int:
    from mediagrid.reference.orchestrator.up import run_up
    from mediagrid.reference.stacks.model import DEMO, StackError, load_stack

    demo = not args.modules and args.stack is None
    stack = None
    if demo or args.stack is not None:
        try:
            stack = load_stack(DEMO if demo else args.stack)
        except StackError as exc:
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr)
            return 2
    state = args.state or Path(DEMO_STATE if demo else DEFAULT_STATE)
    if demo:
        state.parent.mkdir(parents=True, exist_ok=True)
    metrics = "" if args.metrics == "off" else args.metrics
    return run_up(args.modules, address=args.address, state=state,
                  retain_events=args.retain_events, retain_seconds=args.retain_seconds,
                  stack=stack, metrics=metrics)


def _status(args: argparse.Namespace) -> int:
    from mediagrid.reference.orchestrator.status import run_status

    return run_status(args.address, as_json=args.json, tls=requested_tls(args))


def _restart(args: argparse.Namespace) -> int:
    from mediagrid.reference.orchestrator.status import run_restart

    return run_restart(args.address, args.module, reason=args.reason, wait=args.wait,
                       as_json=args.json, tls=requested_tls(args))
