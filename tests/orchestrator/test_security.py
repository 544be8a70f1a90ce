"""Security of the orchestrator's server (S-1, S-2, S-4, S-5): the token on every mediagrid call
also on streaming ones, health and reflection open, TLS only (mutual), 4 MiB messages."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from mediagrid.reference.orchestrator.settings import OrchestratorSettings, TlsFiles
from mediagrid.v1 import entity_pb2, event_pb2, event_pb2_grpc, orchestrator_pb2
from mediagrid.v1 import orchestrator_pb2_grpc as rpc
from tests.orchestrator.conftest import orchestrator, ready, run, write_module
from tests.sdk.test_tls import pki  # noqa: F401 - the fixture: a CA, server and client certs

op = orchestrator_pb2
TOKEN = "orchestrator-token"


def test_s1_loopback_and_the_default_port_unless_told_otherwise() -> None:
    settings = OrchestratorSettings()
    assert settings.address == "127.0.0.1:50050" and settings.module_bind_host == "127.0.0.1"
    assert settings.max_message == 4 * 1024 * 1024


def test_s2_s5_token_on_every_mediagrid_call_streaming_too_and_4_mib(tmp_path: Path) -> None:
    write_module(tmp_path / "mods", "alpha", types=("thing",))

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods", bus="real",
                                token=TOKEN) as app, \
                grpc.aio.insecure_channel(app.address) as channel:
            await ready(app)
            stub = rpc.OrchestratorServiceStub(channel)
            good = (("authorization", f"Bearer {TOKEN}"),)
            two = (*good, ("authorization", "Bearer wrong"))  # S-8: exactly one value
            for metadata in ((), (("authorization", "Bearer wrong"),), two):
                for call in (stub.ListModules(op.ListModulesRequest(), metadata=metadata),
                             event_pb2_grpc.EventServiceStub(channel).ReportEvent(
                                 event_pb2.ReportEventRequest(), metadata=metadata)):
                    with pytest.raises(grpc.aio.AioRpcError) as caught:
                        await call
                    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
                stream = stub.SubscribeToEvents(op.SubscribeToEventsRequest(since_cursor="0"),
                                                metadata=metadata)
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stream.read()
                assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
                assert "MEDIAGRID_TOKEN" in (caught.value.details() or "")
            assert (await stub.ListModules(op.ListModulesRequest(), metadata=good)).modules
            stream = stub.SubscribeToEvents(op.SubscribeToEventsRequest(since_cursor="0"),
                                            metadata=good)
            first = await stream.read()  # the module's state changes, from the durable log
            assert first.envelopes[0].report.event.type == \
                event_pb2.EVENT_TYPE_MODULE_STATE_CHANGED
            stream.cancel()
            # Health and reflection stay open for probes.
            checked = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest())
            assert checked.status == health_pb2.HealthCheckResponse.SERVING
            reflect = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo()
            await reflect.write(reflection_pb2.ServerReflectionRequest(list_services=""))
            names = {s.name for s in (await reflect.read()).list_services_response.service}
            assert "mediagrid.v1.OrchestratorService" in names
            reflect.cancel()
            # S-5: more than 4 MiB is refused by gRPC itself.
            huge = op.OrchestratorServiceCreateEntityRequest(
                module_id="alpha", request=entity_pb2.CreateEntityRequest(
                    entity_type="thing", config={"blob": "x" * (5 * 1024 * 1024)}))
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.CreateEntity(huge, metadata=good)
            assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED

    run(body())


def test_s5_an_answer_over_4_mib_is_refused_even_to_a_client_that_takes_more(
        tmp_path: Path) -> None:
    # docs/orchestrator.md: 4 MiB both ways. Each module's page of ListEntities is under the
    # limit; the orchestrator's merged page is not, and it must not send it.
    for module_id in ("a", "b"):
        write_module(tmp_path / "mods", module_id, types=("thing",))
    fat = {f"k{n}": "x" * 4096 for n in range(64)}  # ~260 KiB: the most an entity may hold
    roomy = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods") as app, \
                grpc.aio.insecure_channel(app.address, options=roomy) as channel:
            await ready(app)
            stub = rpc.OrchestratorServiceStub(channel)
            for module_id in ("a", "b"):
                for n in range(9):
                    await stub.CreateEntity(op.OrchestratorServiceCreateEntityRequest(
                        module_id=module_id, request=entity_pb2.CreateEntityRequest(
                            entity_type="thing", entity_id=f"e{n}", config=fat)))

            def page(size: int) -> op.OrchestratorServiceListEntitiesRequest:
                request = op.OrchestratorServiceListEntitiesRequest()
                request.request.page.page_size = size
                return request
            assert len((await stub.ListEntities(page(9))).entities) == 9  # 2.4 MB: fine
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.ListEntities(page(18))  # 4.8 MB
            assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED

    run(body())


def test_s4_tls_only_and_mutual_also_towards_the_modules(tmp_path: Path, pki: Path) -> None:  # noqa: F811
    write_module(tmp_path / "mods", "alpha", types=("thing",))
    tls = TlsFiles(pki / "server.pem", pki / "server.key", pki / "ca.pem")
    ca = (pki / "ca.pem").read_bytes()

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods", tls=tls) as app:
            await ready(app)  # the module serves mutual TLS too; the orchestrator dialled it
            client_cert = grpc.ssl_channel_credentials(
                ca, (pki / "client.key").read_bytes(), (pki / "client.pem").read_bytes())
            async with grpc.aio.secure_channel(app.address, client_cert) as channel:
                listed = await rpc.OrchestratorServiceStub(channel).ListModules(
                    op.ListModulesRequest(), timeout=10)
                assert [m.id for m in listed.modules] == ["alpha"]
            for channel in (grpc.aio.insecure_channel(app.address),
                            grpc.aio.secure_channel(app.address,
                                                    grpc.ssl_channel_credentials(ca))):
                async with channel:
                    with pytest.raises(grpc.aio.AioRpcError) as caught:
                        await rpc.OrchestratorServiceStub(channel).ListModules(
                            op.ListModulesRequest(), timeout=5)
                    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE

    run(body())


def test_s4_the_command_line_presents_a_client_certificate(tmp_path: Path, pki: Path) -> None:  # noqa: F811
    """`mediagrid status` and `events` dial an orchestrator that requires client certificates
    with --tls-ca, --tls-cert and --tls-key; without the certificate the handshake is refused
    (exit 1); a certificate without its key is bad input (exit 2, naming the missing option)."""
    write_module(tmp_path / "mods", "alpha", types=("thing",))
    tls = TlsFiles(pki / "server.pem", pki / "server.key", pki / "ca.pem")
    ca = ["--tls-ca", str(pki / "ca.pem")]
    mine = [*ca, "--tls-cert", str(pki / "client.pem"), "--tls-key", str(pki / "client.key")]

    async def cli(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "mediagrid.cli", *args, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode or 0, out.decode(), err.decode()

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", tmp_path / "mods", tls=tls,
                                bus="real") as app:
            await ready(app)
            code, out, _ = await cli("status", "--address", app.address, "--json", *mine)
            assert code == 0
            assert [m["id"] for m in json.loads(out)["modules"]] == ["alpha"]
            code, out, _ = await cli("events", "--address", app.address, "--json", *mine)
            assert code == 0 and '"module_id": "alpha"' in out
            code, _, err = await cli("status", "--address", app.address, *ca)
            assert code == 1 and "error" in err
            code, _, err = await cli("status", "--address", app.address, *ca, "--tls-cert",
                                     str(pki / "client.pem"))
            assert code == 2 and "--tls-cert needs --tls-key" in err
            code, _, err = await cli("status", "--address", app.address, "--tls-ca",
                                     str(tmp_path / "missing.pem"))
            assert code == 2 and "missing.pem: no such readable file" in err

    run(body())
