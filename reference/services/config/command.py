"""The config service's command line: `python -m mediagrid.reference.services.config`.

`mediagrid up --stack FILE` starts it by itself when the stack has `configs:`; run it by hand
beside any orchestrator:

    python -m mediagrid.reference.services.config --orchestrator 127.0.0.1:50050 \\
        --config configs.yaml

MEDIAGRID_TOKEN is sent when set (to the orchestrator and to the modules); --tls-ca dials
both with TLS. Exit codes: 0 stopped by SIGTERM or Ctrl-C, 2 an invalid config file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import grpc

from mediagrid.reference.services.config.configs import ConfigFileError, load_configs
from mediagrid.reference.services.config.service import ConfigService


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mediagrid.reference.services.config",
        description="Give every configurable module its configuration whenever it becomes "
                    "READY (also after restarts), from a YAML file of module id -> config.")
    parser.add_argument("--orchestrator", default="127.0.0.1:50050", metavar="HOST:PORT")
    parser.add_argument("--config", type=Path, required=True, metavar="FILE",
                        help="YAML with `modules:` (or a stack file's `configs:`)")
    parser.add_argument("--tls-ca", type=Path, metavar="FILE",
                        help="dial the orchestrator and the modules with TLS, trusting this CA")
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
    ca = args.tls_ca.read_bytes() if args.tls_ca is not None else None
    return asyncio.run(serve(configs, args.orchestrator, ca))


async def serve(configs: object, address: str, tls_ca: bytes | None) -> int:
    token = os.environ.get("MEDIAGRID_TOKEN", "")
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    if tls_ca is not None:
        credentials = grpc.ssl_channel_credentials(tls_ca)

        def dial(target: str) -> grpc.aio.Channel:
            return grpc.aio.secure_channel(target, credentials)
    else:
        dial = grpc.aio.insecure_channel
    async with dial(address) as channel:
        service = ConfigService(configs, channel, metadata=metadata, dial=dial)  # type: ignore[arg-type]
        task = asyncio.ensure_future(service.run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return 0
