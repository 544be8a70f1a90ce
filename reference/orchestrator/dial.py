"""How the command-line clients dial the orchestrator (`mediagrid status`, `restart`,
`pipeline`, `events`): plaintext, TLS trusting a CA (`--tls-ca`), and with a client
certificate (`--tls-cert`, `--tls-key`) when the orchestrator requires one
(`MEDIAGRID_TLS_CLIENT_CA_FILE`, rule S-4). `MEDIAGRID_TOKEN` is sent when set (S-2)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # grpc is imported when a client dials, not for `mediagrid --help`
    import grpc


@dataclass(frozen=True)
class ClientTls:
    """The files a client dials TLS with. `ca` None trusts the system's CAs."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        import grpc

        def read(path: Path | None) -> bytes | None:
            return path.read_bytes() if path is not None else None

        return grpc.ssl_channel_credentials(read(self.ca), read(self.key), read(self.cert))


def pem_file(text: str) -> Path:
    """argparse type: a readable file (exit 2 naming it otherwise)."""
    path = Path(text)
    if not path.is_file() or not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"{text}: no such readable file (a PEM file is needed)")
    return path


def add_tls_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tls-ca", type=pem_file, metavar="FILE",
                        help="dial with TLS, trusting this CA (PEM)")
    parser.add_argument("--tls-cert", type=pem_file, metavar="FILE",
                        help="with --tls-key: the client certificate (PEM) an orchestrator "
                             "that requires client certificates accepts (S-4)")
    parser.add_argument("--tls-key", type=pem_file, metavar="FILE",
                        help="the private key (PEM) of --tls-cert")


class TlsOptionsError(ValueError):
    """--tls-cert and --tls-key were not given together (exit 2)."""


def client_tls(args: argparse.Namespace) -> ClientTls | None:
    """The TLS the options ask for, or None for plaintext."""
    ca, cert, key = (getattr(args, name, None) for name in ("tls_ca", "tls_cert", "tls_key"))
    if (cert is None) != (key is None):
        given, missing = ("--tls-cert", "--tls-key") if key is None else ("--tls-key",
                                                                            "--tls-cert")
        raise TlsOptionsError(f"{given} needs {missing}: give the client certificate and its "
                              "private key together")
    if ca is None and cert is None:
        return None
    return ClientTls(ca, cert, key)


def requested_tls(args: argparse.Namespace) -> ClientTls | None:
    """client_tls() for a command: a wrong combination is told on stderr and exits 2."""
    try:
        return client_tls(args)
    except TlsOptionsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def dial(address: str, tls: ClientTls | None,
         options: Sequence[tuple[str, int]] = ()) -> grpc.aio.Channel:
    import grpc

    if tls is None:
        return grpc.aio.insecure_channel(address, options=options)
    return grpc.aio.secure_channel(address, tls.credentials(), options=options)


def token_metadata() -> tuple[tuple[str, str], ...]:
    token = os.environ.get("MEDIAGRID_TOKEN", "")
    return (("authorization", f"Bearer {token}"),) if token else ()
