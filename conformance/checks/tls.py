"""TLS (rules S-4 and S-9, both SHOULD), for modules whose module.yaml says security.tls: the
suite makes a throw-away CA and certificates with openssl, starts the module serving TLS
(mutual when given a client CA), and serves its EventService over TLS for the reports."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path

import grpc

from mediagrid.conformance.context import CheckContext
from mediagrid.conformance.recorder import EventRecorder, EventServer
from mediagrid.conformance.registry import SECURITY, Checks
from mediagrid.v1 import module_pb2, module_pb2_grpc

CHECKS = Checks("tls")
EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def needs_tls(manifest) -> str | None:  # type: ignore[no-untyped-def]
    return None if manifest.security.tls else "module.yaml does not say security.tls: true"


def make_pki(folder: Path) -> dict[str, Path]:
    """ca.pem; server.pem/.key for 127.0.0.1; client.pem/.key; all signed by the CA."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True,
                       timeout=30)
    run("req", "-x509", *EC, "-keyout", "ca.key", "-out", "ca.pem", "-subj",
        "/CN=mediagrid conformance CA", "-days", "1")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        run("req", *EC, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
            f"/CN=conformance-{name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "1", "-extfile", "san.ext")
    return {n: folder / n for n in ("ca.pem", "server.pem", "server.key", "client.pem",
                                     "client.key")}


async def health(address: str, credentials: grpc.ChannelCredentials | None) -> str:
    """'OK' or the status code name of one HealthCheck."""
    channel = (grpc.aio.secure_channel(address, credentials) if credentials
               else grpc.aio.insecure_channel(address))
    async with channel:
        try:
            await module_pb2_grpc.ModuleServiceStub(channel).HealthCheck(
                module_pb2.HealthCheckRequest(), timeout=3.0)
        except grpc.aio.AioRpcError as exc:
            return exc.code().name
    return "OK"


async def until_up(address: str, credentials: grpc.ChannelCredentials) -> str:
    answer = "no answer"
    for _ in range(100):
        answer = await health(address, credentials)
        if answer == "OK":
            break
        await asyncio.sleep(0.1)
    return answer


@CHECKS.check("S-4", "S-9", profile=SECURITY, needs=[needs_tls], launch_only=True,
              slow=True, timeout=60.0, title="with TLS files: serves TLS only (mutual with a "
              "client CA); with MEDIAGRID_ORCHESTRATOR_CA_FILE: reports over TLS")
async def serves_and_reports_over_tls(ctx: CheckContext) -> None:
    if shutil.which("openssl") is None:
        raise ctx.skip("openssl is not installed: the suite makes its test certificates with it")
    with tempfile.TemporaryDirectory(prefix="mediagrid-tls-") as tmp:
        pki = await asyncio.to_thread(make_pki, Path(tmp))
        read = {k: v.read_bytes() for k, v in pki.items()}
        server_only = grpc.ssl_channel_credentials(root_certificates=read["ca.pem"])
        mutual = grpc.ssl_channel_credentials(read["ca.pem"], read["client.key"],
                                              read["client.pem"])
        recorder = EventRecorder()
        events = EventServer(recorder, credentials=grpc.ssl_server_credentials(
            [(read["server.key"], read["server.pem"])]))
        await events.start()
        try:
            env = {"MEDIAGRID_TLS_CERT_FILE": str(pki["server.pem"]),
                   "MEDIAGRID_TLS_KEY_FILE": str(pki["server.key"]),
                   "MEDIAGRID_ORCHESTRATOR_CA_FILE": str(pki["ca.pem"])}
            async with ctx.launch(ready=False, overrides=env,
                                  orchestrator=events.address) as process:
                answer = await until_up(process.address, server_only)
                ctx.require(answer == "OK", "S-4", "HealthCheck over TLS (the suite's CA)",
                            answer)
                plain = await health(process.address, None)
                ctx.require(plain != "OK", "S-4", "no plaintext answer while serving TLS",
                            "a plaintext HealthCheck was answered")
                arrived = await recorder.wait_for(lambda: bool(recorder.attempts), 5.0)
                ctx.require(arrived, "S-9", "reports over TLS to the EventService "
                            "(MEDIAGRID_ORCHESTRATOR_CA_FILE)", "none arrived within 5 s")
            env["MEDIAGRID_TLS_CLIENT_CA_FILE"] = str(pki["ca.pem"])
            async with ctx.launch(ready=False, overrides=env,
                                  orchestrator=events.address) as process:
                answer = await until_up(process.address, mutual)
                ctx.require(answer == "OK", "S-4", "HealthCheck with a client certificate",
                            answer)
                without = await health(process.address, server_only)
                ctx.require(without != "OK", "S-4", "refused without a client certificate "
                            "(MEDIAGRID_TLS_CLIENT_CA_FILE set)", "answered")
        finally:
            await events.stop()
