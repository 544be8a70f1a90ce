"""`mediagrid proxy`: a TCP fault proxy with toxiproxy-like toxics, standalone or in front of
a module (`--module -- CMD...`, for a module.yaml command)."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

EPILOG = """\
examples:
  mediagrid proxy --listen 127.0.0.1:7000 --upstream 127.0.0.1:50051
      clients of 127.0.0.1:7000 reach the module on 50051; change toxics at run time:
      curl -X POST 127.0.0.1:8474/proxies/module/toxics \\
           -d '{"type": "latency", "attributes": {"latency": 300, "jitter": 50}}'
  mediagrid proxy --listen 127.0.0.1:7000 --upstream 127.0.0.1:50051 \\
           --toxic latency:latency=600,stream=downstream --toxic reset_peer:timeout=5000
      toxics from the start (type:key=value,...; stream and toxicity too)
  command: ["{python}", "-m", "mediagrid.simulator.proxy", "--module", "--",
            "{python}", "-m", "mediagrid.simulator.module", "scenario.yaml"]
      in a module.yaml: the orchestrator reaches this module through the proxy

toxics (toxiproxy's): latency (latency, jitter ms), bandwidth (rate KB/s), timeout
(timeout ms; 0 holds data until removed), reset_peer (timeout ms), slow_close (delay ms),
limit_data (bytes), down (stop listening, drop connections). Each has a stream (upstream:
client to server; downstream, the default) and a toxicity (share of connections).
Control API (HTTP + JSON, toxiproxy's paths): GET /proxies, POST /proxies/NAME/toxics,
DELETE /proxies/NAME/toxics/TOXIC, POST /proxies/NAME {"enabled": false}, POST /reset.
See docs/simulator.md.

exit codes: 0 stopped with Ctrl-C, 1 failure, 2 invalid input, 98 (--module) GRPC_PORT taken;
with --module, otherwise the module's own exit code.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", metavar="HOST:PORT", help="where clients connect")
    parser.add_argument("--upstream", metavar="HOST:PORT", help="the server behind the proxy")
    parser.add_argument("--name", default="module", help="the proxy's name in the API")
    parser.add_argument("--control", metavar="HOST:PORT",
                        help="the control API (default 127.0.0.1:8474, toxiproxy's port;"
                             " with --module a free port unless given)")
    parser.add_argument("--toxic", action="append", default=[], metavar="SPEC",
                        help="a toxic from the start: TYPE:key=value,... (repeatable)")
    parser.add_argument("--module", action="store_true",
                        help="run the command after -- behind the proxy on GRPC_PORT")
    parser.add_argument("--json", action="store_true",
                        help="print the ready line as one JSON object")
    parser.add_argument("command", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "proxy", help="a TCP fault proxy (toxics: latency, bandwidth, reset, ...)",
        description="A TCP proxy between a client and a module that applies toxics in the "
                    "manner of toxiproxy, changed at run time over its control API.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    from mediagrid.simulator.proxy.toxics import ToxicError, parse_spec

    try:
        toxics = [parse_spec(spec) for spec in args.toxic]
    except ToxicError as exc:
        print(f"error: --toxic: {exc}", file=sys.stderr)
        return 2
    command = list(args.command or [])
    if command[:1] == ["--"]:
        command = command[1:]
    control = args.control or ("127.0.0.1:0" if args.module else "127.0.0.1:8474")
    if args.module:
        from mediagrid.simulator.proxy.sidecar import run_sidecar

        if not command:
            print("error: --module needs the module's command after --", file=sys.stderr)
            return 2
        return asyncio.run(run_sidecar(command, name=args.name, control=control,
                                       toxics=toxics))
    if not (args.listen and args.upstream) or command:
        print("error: give --listen HOST:PORT and --upstream HOST:PORT (or --module -- CMD)",
              file=sys.stderr)
        return 2
    try:
        return asyncio.run(_standalone(args, control, toxics))
    except KeyboardInterrupt:
        return 0


async def _standalone(args: argparse.Namespace, control_address: str,
                      toxics: list[Any]) -> int:
    from mediagrid.simulator.proxy.api import ControlApi
    from mediagrid.simulator.proxy.proxy import FaultProxy
    from mediagrid.simulator.proxy.sidecar import split_address

    try:
        listen, upstream = split_address(args.listen), split_address(args.upstream)
        control = split_address(control_address)
    except ValueError as exc:
        print(f"error: {exc}: write it like 127.0.0.1:7000", file=sys.stderr)
        return 2
    proxy = FaultProxy(args.name, listen, upstream)
    api = ControlApi({args.name: proxy})
    try:
        await proxy.start()
        address = await api.start(*control)
    except OSError as exc:
        print(f"error: cannot listen: {exc.strerror}", file=sys.stderr)
        await proxy.stop()
        return 1
    for toxic in toxics:
        await proxy.add(toxic)
    ready = {"proxy": args.name, "listen": proxy.address, "upstream": args.upstream,
             "control": f"http://{address}", "toxics": [t.to_dict() for t in toxics]}
    print(json.dumps(ready) if args.json else
          f"fault proxy {args.name!r}: {proxy.address} -> {args.upstream}; control API on"
          f" http://{address}; Ctrl-C stops", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await api.stop()
        await proxy.stop()
    return 0
