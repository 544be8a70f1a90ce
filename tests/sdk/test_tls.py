"""Rule S-4: with MEDIAGRID_TLS_* set, a module serves TLS only; a client CA makes it mutual."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import grpc
import pytest

from mediagrid.v1 import module_pb2, module_pb2_grpc
from tests.sdk.conftest import HELLO, ModuleProcess, start_module
from tests.support import free_port


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made by openssl."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is not installed (Debian package openssl)")
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
             "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    extensions = (("server", "subjectAltName=IP:127.0.0.1"),
                  ("client", "extendedKeyUsage=clientAuth"))
    for name, ext in extensions:
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        (d / f"{name}.ext").write_text(ext + "\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
                 "-out", f"{name}.pem", cwd=d)
    return d


def _tls_env(pki: Path, mutual: bool) -> dict[str, str]:
    env = {"MEDIAGRID_TLS_CERT_FILE": str(pki / "server.pem"),
           "MEDIAGRID_TLS_KEY_FILE": str(pki / "server.key")}
    if mutual:
        env["MEDIAGRID_TLS_CLIENT_CA_FILE"] = str(pki / "ca.pem")
    return env


def _health(channel: grpc.Channel) -> module_pb2.HealthCheckResponse:
    return module_pb2_grpc.ModuleServiceStub(channel).HealthCheck(
        module_pb2.HealthCheckRequest(), timeout=5)


def _start_tls(pki: Path, mutual: bool) -> ModuleProcess:
    # start_module's readiness poll speaks plaintext, so wait for READY over TLS here instead.
    module = start_module(HELLO / "module.py", free_port(), _tls_env(pki, mutual), wait_ready=False)
    creds = _client_credentials(pki, with_cert=mutual)
    with grpc.secure_channel(module.address, creds) as channel:
        grpc.channel_ready_future(channel).result(timeout=20)
    return module


def _client_credentials(pki: Path, with_cert: bool) -> grpc.ChannelCredentials:
    ca = (pki / "ca.pem").read_bytes()
    if not with_cert:
        return grpc.ssl_channel_credentials(root_certificates=ca)
    return grpc.ssl_channel_credentials(
        root_certificates=ca,
        private_key=(pki / "client.key").read_bytes(),
        certificate_chain=(pki / "client.pem").read_bytes(),
    )


def test_tls_module_answers_over_tls_and_refuses_plaintext(pki: Path) -> None:
    module = _start_tls(pki, mutual=False)
    try:
        with grpc.secure_channel(module.address, _client_credentials(pki, False)) as channel:
            assert _health(channel).status.instance_id
        with grpc.insecure_channel(module.address) as channel, pytest.raises(grpc.RpcError) as err:
            _health(channel)
        assert err.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        module.stop()


def test_mutual_tls_requires_a_client_certificate(pki: Path) -> None:
    module = _start_tls(pki, mutual=True)
    try:
        with grpc.secure_channel(module.address, _client_credentials(pki, True)) as channel:
            assert _health(channel).status.state == module_pb2.MODULE_STATE_READY
        with grpc.secure_channel(module.address, _client_credentials(pki, False)) as channel, \
                pytest.raises(grpc.RpcError) as err:
            _health(channel)
        assert err.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        module.stop()


def test_half_a_tls_setting_exits_2_naming_the_missing_variable(pki: Path) -> None:
    env = {"MEDIAGRID_TLS_CERT_FILE": str(pki / "server.pem")}
    module = start_module(HELLO / "module.py", free_port(), env, wait_ready=False)
    try:
        assert module.process.wait(timeout=30) == 2
        assert "MEDIAGRID_TLS_KEY_FILE is not set" in module.stderr()
    finally:
        module.stop()


def test_s9_reports_reach_a_mutual_tls_orchestrator(pki: Path) -> None:
    """The module trusts MEDIAGRID_ORCHESTRATOR_CA_FILE and presents its serving certificate
    (MEDIAGRID_TLS_CERT_FILE) as its client certificate."""
    import asyncio

    from mediagrid import sdk
    from mediagrid.v1 import event_pb2, event_pb2_grpc
    from tests.sdk.event_server import Recorder

    async def scenario() -> list[int]:
        recorder, port = Recorder(), free_port()
        server = grpc.aio.server()
        event_pb2_grpc.add_EventServiceServicer_to_server(recorder, server)
        server.add_secure_port(f"127.0.0.1:{port}", grpc.ssl_server_credentials(
            [((pki / "server.key").read_bytes(), (pki / "server.pem").read_bytes())],
            root_certificates=(pki / "ca.pem").read_bytes(), require_client_auth=True))
        await server.start()
        settings = sdk.Settings.from_env({
            "GRPC_PORT": "1", "MEDIAGRID_MODULE_ID": "m", **_tls_env(pki, mutual=False),
            "MEDIAGRID_ORCHESTRATOR_ADDRESS": f"127.0.0.1:{port}",
            "MEDIAGRID_ORCHESTRATOR_CA_FILE": str(pki / "ca.pem"),
        })
        module = sdk.ModuleServer(sdk.Module("m"), settings)  # wires the sender as serve() does
        reporter = module.runtime.reporter
        task = asyncio.create_task(reporter.run())
        try:
            reporter.event(event_pb2.EVENT_TYPE_INFO, "over TLS")
            assert await reporter.flush(15)
            return recorder.sequences
        finally:
            task.cancel()
            assert module._sender is not None
            await module._sender.close()
            await server.stop(None)

    assert asyncio.run(scenario()) == [1]
