"""The config service's command line: `python -m mediagrid.reference.services.config`.

`mediagrid up --stack FILE` starts it by itself when the stack has `configs:`; run it by hand
beside any orchestrator:

    python -m mediagrid.reference.services.config --orchestrator 127.0.0.1:50050 \\
        --config configs.yaml

MEDIAGRID_TOKEN is sent when set (to the orchestrator and to the modules); --tls-ca dials
both with TLS, and --tls-cert/--tls-key present a client certificate where one is required.
Exit codes: 0 stopped by SIGTERM or Ctrl-C, 2 an invalid config file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import grpc

from mediagrid.reference.orchestrator.dial import (
    ClientTls,
    add_tls_options,
    dial,
    requested_tls,
    token_metadata,
)
from mediagrid.reference.services.config.configs import ConfigFileError, Configs, load_configs
from mediagrid.reference.services.config.service import ConfigService


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mediagrid.reference.services.config",
        description="Give every configurable module its configuration whenever it becomes "
                    "READY (also after restarts), from a YAML file of module id -> config.")
    parser.add_argument("--orchestrator", default="127.0.0.1:50050", metavar="HOST:PORT")
    parser.add_argument("--config", type=Path, required=True, metavar="FILE",
                        help="YAML with `modules:` (or a stack file's `configs:`)")
    add_tls_options(parser)  # the orchestrator and the modules alike
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s config-service %(message)s")
    try:
        configs = load_configs(args.config)
    except ConfigFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(serve(configs, args.orchestrator, requested_tls(args)))


async def serve(configs: Configs, address: str, tls: ClientTls | None) -> int:
    def to(target: str) -> grpc.aio.Channel:
        return dial(target, tls)

    async with to(address) as channel:
        service = ConfigService(configs, channel, metadata=token_metadata(), dial=to)
        task = asyncio.ensure_future(service.run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return 0
