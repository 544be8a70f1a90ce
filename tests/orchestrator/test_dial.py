"""How the command-line clients dial the orchestrator (reference/orchestrator/dial.py): TLS
trusting only a CA (no client certificate) with MEDIAGRID_TOKEN (S-2, S-4), the options that
are bad input (exit 2), and the reconnect options kept on a TLS channel.

Written by the dial.py mutation audit (audit-12); each test names the planted bugs it catches
(ids as in /work/coord/audit-12.md).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import grpc
import pytest

from mediagrid.cli import main as cli_main
from mediagrid.reference.orchestrator import dial
from mediagrid.reference.orchestrator.events.follow import RECONNECT_OPTIONS
from mediagrid.reference.orchestrator.settings import TlsFiles
from tests.orchestrator.conftest import orchestrator, ready, run, write_module
from tests.sdk.test_tls import pki  # noqa: F401 - the fixture: a CA, server and client certs

TOKEN = "dial-token"


def exit_code(*argv: str) -> int:
    """`mediagrid ARGV` in this process; argparse's exit 2 is an exit code too."""
    try:
        return cli_main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)


def test_s2_s4_tls_with_only_a_ca_sends_the_bearer_token(tmp_path: Path, pki: Path) -> None:  # noqa: F811
    """An orchestrator serving TLS (no client certificates asked) and requiring a token:
    `--tls-ca` alone dials TLS (not plaintext), and MEDIAGRID_TOKEN goes as
    `authorization: Bearer TOKEN` from status and events; without it the call is refused.
    Catches D05, D08 (CA-only dialled plaintext), D06, D07 (header name, no "Bearer ")."""
    write_module(tmp_path / "mods", "alpha", types=("thing",))
    tls = TlsFiles(pki / "server.pem", pki / "server.key", ca=pki / "ca.pem")
    ca = ("--tls-ca", str(pki / "ca.pem"))
    env = {k: v for k, v in os.environ.items() if k != "MEDIAGRID_TOKEN"}

    async def cli(token: str, *args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "mediagrid.cli", *args, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**env, "MEDIAGRID_TOKEN": token} if token else env)
        out, err = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode or 0, out.decode(), err.decode()

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods", tls=tls,
                                token=TOKEN, bus="real") as app:
            await ready(app)
            code, out, err = await cli(TOKEN, "status", "--address", app.address, "--json", *ca)
            assert code == 0, err
            assert '"id": "alpha"' in out
            code, out, err = await cli(TOKEN, "events", "--address", app.address, "--json", *ca)
            assert code == 0, err
            assert '"module_id": "alpha"' in out
            code, _, err = await cli("", "status", "--address", app.address, *ca)
            assert code == 1 and "MEDIAGRID_TOKEN" in err

    run(body())


def test_a_key_without_its_certificate_is_invalid_input(
        pki: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    """--tls-key alone is exit 2 naming --tls-cert (D03: only the certificate alone was
    refused, and the key alone reached ssl_channel_credentials)."""
    assert exit_code("status", "--address", "127.0.0.1:1", "--tls-ca", str(pki / "ca.pem"),
                     "--tls-key", str(pki / "client.key")) == 2
    assert "--tls-key needs --tls-cert" in capsys.readouterr().err


def test_a_folder_is_not_a_pem_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--tls-ca naming a folder is exit 2 naming it (D04: any existing path was accepted and
    reading it failed later with a traceback)."""
    assert exit_code("status", "--address", "127.0.0.1:1", "--tls-ca", str(tmp_path)) == 2
    assert f"{tmp_path}: no such readable file" in capsys.readouterr().err


def test_the_reconnect_options_reach_the_tls_channel_too(
        pki: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """`events --follow` dials with RECONNECT_OPTIONS so it reconnects soon after an
    orchestrator restart; over TLS too (D09: the secure channel dropped them). The real
    channel functions are called; this only records the options they were given."""
    given: list[Any] = []

    def recording(real: Any) -> Any:
        def call(*args: Any, options: Any = None, **kwargs: Any) -> Any:
            given.append(tuple(options or ()))
            return real(*args, options=options, **kwargs)
        return call

    monkeypatch.setattr(grpc.aio, "secure_channel", recording(grpc.aio.secure_channel))
    monkeypatch.setattr(grpc.aio, "insecure_channel", recording(grpc.aio.insecure_channel))

    async def body() -> None:
        for tls in (None, dial.ClientTls(ca=pki / "ca.pem")):
            async with dial.dial("127.0.0.1:1", tls, RECONNECT_OPTIONS):
                pass

    asyncio.run(body())
    assert given == [RECONNECT_OPTIONS, RECONNECT_OPTIONS]
