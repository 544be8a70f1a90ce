"""`mediagrid events`: print the event stream of a running orchestrator (docs/events.md)."""

from __future__ import annotations

import argparse
from typing import Any

from mediagrid.reference.orchestrator.dial import add_tls_options, requested_tls

DEFAULT_ADDRESS = "127.0.0.1:50050"
EXIT_OK, EXIT_INVALID, EXIT_INTERRUPTED = 0, 2, 130

EPILOG = """\
examples:
  mediagrid events
      every event still in the orchestrator's log, oldest first, then exit
  mediagrid events --follow
      new events as they happen, until Ctrl-C; survives an orchestrator restart
  mediagrid events --follow --module camera-1 --type error --type warning
      only the errors and warnings of one module
  mediagrid events --follow --since 00000000000004d29f3c01d2
      go on exactly after the last event seen before (the cursor printed at exit)
  mediagrid events --json --status --metrics | jq -c '.report.metrics // empty'
      everything as JSON lines, for a script

Each line shows when the orchestrator accepted the report, the module, what happened, the
entity, connection or flow it is about, and the message. Events only by default; --status
and --metrics add entity status updates and metrics samples.
On exit the cursor to go on from is printed (on stderr; with --json it is the last line's
resume_cursor). A cursor older than the orchestrator's retained window (100,000 events or
24 h by default) is refused: start again without --since.
--json prints one JSON object per line: each envelope as {"cursor", "received_at",
"report"}, and a last line {"ok", "shown", "resume_cursor"} (with "error" on failure).
The token is read from MEDIAGRID_TOKEN.

exit codes:
  0    the end of the log was reached (or --follow was stopped with Ctrl-C)
  1    no orchestrator answered, or it ended the stream with an error
  2    invalid input: a --since cursor it did not issue or no longer keeps, a wrong token
  130  interrupted with Ctrl-C before the end of the log was reached (without --follow)
"""


def register(subparsers: Any) -> None:
    from mediagrid.v1 import event_pb2

    types = [n.removeprefix("EVENT_TYPE_").lower() for n in event_pb2.EventType.keys()][1:]
    parser = subparsers.add_parser(
        "events", help="print the event stream of a running orchestrator",
        description="Print the events of a running orchestrator: what its modules reported "
                    "(entities, connections, flows, errors) and what it saw itself (module "
                    "state changes, restarts), from its durable event log.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--follow", "-f", action="store_true",
                        help="keep printing new events until Ctrl-C (default: stop at the "
                             "newest); reconnects with its cursor when the orchestrator "
                             "restarts")
    parser.add_argument("--since", metavar="CURSOR", default=None,
                        help='start after this cursor; "0" for the oldest kept (the default '
                             'without --follow), "" for only new ones (the default with it)')
    parser.add_argument("--module", action="append", default=[], metavar="ID",
                        help="only this module (repeat for several)")
    parser.add_argument("--type", action="append", default=[], metavar="TYPE",
                        choices=types, type=str.lower,
                        help=f"only this event type (repeat for several): {', '.join(types)}")
    parser.add_argument("--entity", default="", metavar="ID", help="only this entity")
    parser.add_argument("--flow", default="", metavar="ID", help="only this flow")
    parser.add_argument("--min-severity", default="", type=str.lower,
                        choices=["info", "warning", "error", "critical"],
                        help="only events at least this serious")
    parser.add_argument("--status", action="store_true", help="add entity status updates")
    parser.add_argument("--metrics", action="store_true", help="add metrics samples")
    parser.add_argument("--address", default=DEFAULT_ADDRESS, metavar="HOST:PORT",
                        help=f"the orchestrator (default {DEFAULT_ADDRESS})")
    add_tls_options(parser)
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per line (see below) instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from mediagrid.reference.orchestrator.events.follow import Failure, Output, Watch, watch
    from mediagrid.v1 import event_pb2, orchestrator_pb2

    flt = orchestrator_pb2.EventFilter(
        module_ids=args.module, entity_id=args.entity, flow_id=args.flow,
        event_types=[event_pb2.EventType.Value(f"EVENT_TYPE_{t.upper()}") for t in args.type],
        include_status=args.status, include_metrics=args.metrics,
        min_severity=event_pb2.EventSeverity.Value(
            f"EVENT_SEVERITY_{args.min_severity.upper()}") if args.min_severity else 0)
    since = args.since if args.since is not None else ("" if args.follow else "0")
    out = Output(args.json)
    if args.follow and not args.json:
        out.note(f"following the events of the orchestrator at {args.address}; Ctrl-C stops")
    try:
        code = asyncio.run(watch(Watch(args.address, flt, since, args.follow,
                                         requested_tls(args)), out))
    except Failure as exc:
        out.summary(str(exc))
        return exc.code
    except KeyboardInterrupt:
        out.summary()
        return EXIT_OK if args.follow else EXIT_INTERRUPTED
    out.summary()
    return code
