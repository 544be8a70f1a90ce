"""`mediagrid module run PATH`: start one module by hand, the way the orchestrator would."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediagrid.manifest.process import ModuleProcess
    from mediagrid.v1 import module_pb2

EXIT_OK, EXIT_FAILURE, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130
PORT_RETRIES = 3  # extra attempts on a new free port after exit code 98 (port in use)

EPILOG = """\
examples:
  mediagrid module run examples/python/hello
      start it on a free port, show its address, forward its output; Ctrl-C stops it
  mediagrid module run ./my-module --once --json
      a smoke test for CI: start, wait for READY, stop; one JSON object on stdout
  mediagrid module run ./my-module --port 50051 --orchestrator 127.0.0.1:50050
      a fixed port, sending the module's events to a running orchestrator

The module gets GRPC_PORT, MEDIAGRID_MODULE_ID, MEDIAGRID_BIND_HOST (127.0.0.1) and
MEDIAGRID_ORCHESTRATOR_ADDRESS (empty unless --orchestrator) in its environment, plus
module.yaml's env; MEDIAGRID_TOKEN is passed through and sent on the runner's calls.
Its stdout and stderr are forwarded to stderr. Ctrl-C (or SIGTERM) stops it like the
orchestrator does: the Shutdown RPC, then SIGTERM to its process group, then SIGKILL,
with the graces from module.yaml's supervision.shutdown.
More, and the JSON shapes: docs/module-yaml.md ("Running a module by hand").

exit codes:
  0    the module stopped cleanly (after Ctrl-C, or after Shutdown with --once)
  N    the module's own exit status when it exits by itself (128+N: killed by signal N)
  1    it did not start (exited early, not READY in time, reported ERROR), or with
       --once it did not exit 0 after Shutdown
  2    invalid module.yaml or usage
  130  Ctrl-C before the module was READY
"""


def register(subparsers: Any) -> None:
    """Adds `module run`. Idempotent: mediagrid.manifest.command registers it too."""
    if "module" in subparsers.choices:
        return
    parser = subparsers.add_parser(
        "module", help="work with one module (run it by hand)",
        description="Commands for module authors.",
        epilog="example:\n  mediagrid module run examples/python/hello",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="module_command", metavar="SUBCOMMAND", required=True)
    run_parser = sub.add_parser(
        "run", help="start a module from its module.yaml and wait until READY",
        description="Run one module by hand, the way the orchestrator would: start the "
                    "command from its module.yaml, wait until its HealthCheck says READY, "
                    "print its address and entity types, then forward its output until it "
                    "exits or Ctrl-C.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run_parser.add_argument("path", metavar="PATH", help="the module's folder or module.yaml")
    run_parser.add_argument("--port", type=_port, default=None,
                            help="port for GRPC_PORT (default: a free one; when the module "
                                 "says the port is taken, up to 3 more are tried)")
    run_parser.add_argument("--orchestrator", metavar="HOST:PORT", default="", type=_address,
                            help="orchestrator EventService address for the module's reports "
                                 "(default: none, the module runs standalone)")
    run_parser.add_argument("--json", action="store_true",
                            help="print one JSON object on stdout: the READY summary, or "
                                 "{\"ok\": false, \"error\": ...} when the start fails")
    run_parser.add_argument("--once", action="store_true",
                            help="start, wait for READY, print, shut down and exit "
                                 "(0 when the module also stopped cleanly)")
    run_parser.set_defaults(func=run)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def _address(text: str) -> str:
    if not text:
        return text  # the default (argparse converts it too): run standalone
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not HOST:PORT: write it like 127.0.0.1:50050")
    return text


def run(args: argparse.Namespace) -> int:
    import asyncio

    return asyncio.run(run_module(args.path, port=args.port, orchestrator=args.orchestrator,
                                  as_json=args.json, once=args.once))


async def run_module(path: str, *, port: int | None = None, orchestrator: str = "",
                     as_json: bool = False, once: bool = False,
                     pick_port: Callable[[], int] | None = None) -> int:
    """The whole of `mediagrid module run`; returns the exit code. `pick_port` chooses the
    port when none is given (tests pass one that hands out a taken port first).
    With `as_json`, stdout gets exactly one JSON object whatever happens (its shapes are in
    mediagrid.manifest.summary); without it, a table once READY."""
    import asyncio
    import signal

    from rich.markup import escape

    from mediagrid.manifest.files import manifest_file
    from mediagrid.manifest.loader import load_manifest
    from mediagrid.manifest.model import ManifestError
    from mediagrid.manifest.process import EXIT_PORT_IN_USE, ModuleProcess, StartError
    from mediagrid.manifest.report import console, print_problem, print_verdict
    from mediagrid.manifest.summary import failure_summary, once_summary, print_json, print_ready
    from mediagrid.process import free_port

    err = console(stderr=True)
    file = str(manifest_file(path))
    try:
        manifest = load_manifest(path)
    except ManifestError as exc:
        print_verdict(err, file, exc)
        if as_json:
            count = len(exc.problems)
            print_json(failure_summary(
                None, file, f"{file} is invalid ({count} problem{'s' if count != 1 else ''})",
                problems=[p.to_dict() for p in exc.problems]))
        return EXIT_INVALID
    for problem in manifest.warnings:
        print_problem(err, problem, indent="")

    def fail(proc: ModuleProcess | None, error: StartError | str) -> None:
        """Reports a failed start: the reason on stderr (the module's own output, forwarded
        live, is right above it), everything in the JSON."""
        reason = error if isinstance(error, str) else error.reason
        shown = reason
        if isinstance(error, StartError) and error.exit_code is not None:
            shown += "; see its output above" if error.stderr_tail else \
                " (it wrote nothing on stderr)"
        err.print(f"[red]error:[/] {escape(shown)}")
        if as_json:
            print_json(failure_summary(
                manifest, file, reason, proc=proc,
                exit_code=error.exit_code if isinstance(error, StartError) else None,
                stderr_tail=list(proc.stderr_tail) if proc else []))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        for attempt in range(1 + (0 if port else PORT_RETRIES)):
            chosen = port or (pick_port or free_port)()
            async with ModuleProcess(manifest, chosen, orchestrator=orchestrator) as proc:
                try:
                    health = await _until_ready_or_stop(proc, stop)
                except StartError as exc:
                    if exc.exit_code == EXIT_PORT_IN_USE and not port and attempt < PORT_RETRIES:
                        err.print(f"port {chosen} was taken; trying another free port")
                        continue
                    await proc.stop()  # its last words come before the error, not after
                    fail(proc, exc)
                    return EXIT_FAILURE
                if health is None:
                    code = await proc.stop()
                    fail(proc, "interrupted before the module was READY")
                    return EXIT_INTERRUPTED if code == 0 else EXIT_FAILURE
                if not (once and as_json):
                    print_ready(manifest, proc, health, as_json)
                if once:
                    code = await proc.stop("mediagrid module run --once")
                    if code != 0:
                        err.print(f"[red]error:[/] module exited with {code} after Shutdown "
                                  "(the contract says 0)")
                    if as_json:
                        print_json(once_summary(manifest, proc, health, code))
                    return EXIT_OK if code == 0 else EXIT_FAILURE
                err.print("[dim]forwarding the module's output; Ctrl-C stops it[/]")
                return await _until_exit_or_stop(proc, stop)
        return EXIT_FAILURE  # not reached: the last attempt returns
    except StartError as exc:  # the command could not be started at all
        fail(None, exc)
        return EXIT_FAILURE
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _until_ready_or_stop(
    proc: ModuleProcess, stop: Any
) -> module_pb2.HealthCheckResponse | None:
    import asyncio

    ready = asyncio.ensure_future(proc.wait_ready())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({ready, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not ready.done():
        ready.cancel()
        await asyncio.gather(ready, return_exceptions=True)
        return None
    return ready.result()


async def _until_exit_or_stop(proc: ModuleProcess, stop: Any) -> int:
    import asyncio

    exited = asyncio.ensure_future(proc.wait())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    return await proc.stop("stopped by Ctrl-C in mediagrid module run")


def main(argv: list[str] | None = None) -> int:
    """`python -m mediagrid.manifest.run module run PATH ...`, usable before the CLI lists
    this module in mediagrid.cli.COMMANDS."""
    parser = argparse.ArgumentParser(prog="mediagrid")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
