"""The fault proxy's toxics, measured on the wire between a real client and a real echo
server on loopback; the control API; a module behind the proxy (--module)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mediagrid.simulator.proxy import ControlApi, FaultProxy, HttpError, ProxyClient, Toxic
from mediagrid.simulator.proxy.toxics import ToxicError, parse_spec
from tests.support import free_port


@contextlib.asynccontextmanager
async def echo_through_proxy(*toxics: Toxic, seed: int = 1) -> AsyncIterator[FaultProxy]:
    """An echo server behind a FaultProxy on free loopback ports."""
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    proxy = FaultProxy("echo", ("127.0.0.1", 0), ("127.0.0.1", server.sockets[0].getsockname()[1]),
                       rng=random.Random(seed))
    await proxy.start()
    for toxic in toxics:
        await proxy.add(toxic)
    try:
        yield proxy
    finally:
        await proxy.stop()
        server.close()
        await server.wait_closed()


async def round_trip(port: int, payload: bytes = b"ping") -> float:
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        started = loop.time()
        writer.write(payload)
        await writer.drain()
        await reader.readexactly(len(payload))
        return loop.time() - started
    finally:
        writer.close()


def test_latency_delays_each_direction_and_toxicity_zero_spares_the_connection() -> None:
    async def main() -> None:
        async with echo_through_proxy(Toxic("latency", attributes={"latency": 300})) as proxy:
            assert await round_trip(proxy.port) >= 0.3
            await proxy.add(Toxic("latency", name="up", stream="upstream",
                                  attributes={"latency": 200, "jitter": 50}))
            assert await round_trip(proxy.port) >= 0.45
        async with echo_through_proxy(Toxic("latency", toxicity=0.0,
                                            attributes={"latency": 5000})) as proxy:
            assert await round_trip(proxy.port) < 5  # not affected: it would take 5 s
    asyncio.run(main())


def test_latency_has_its_jitter_drawn_from_the_proxys_seeded_source() -> None:
    """latency 1000 ms ± 900 ms: seed 15 draws -879 ms for the first chunk (after the draw of
    the connection's toxicity), so the echo comes back after 121 ms, well before the 1000 ms
    that latency alone would take."""
    rng = random.Random(15)
    rng.random()  # the connection's toxicity draw
    expected = (1000 + rng.uniform(-900, 900)) / 1000

    async def main() -> None:
        async with echo_through_proxy(Toxic("latency", attributes={
                "latency": 1000, "jitter": 900}), seed=15) as proxy:
            took = await round_trip(proxy.port)
            assert expected <= took < 1.0, (expected, took)
    asyncio.run(main())


def test_bandwidth_limits_the_rate() -> None:
    async def main() -> None:
        async with echo_through_proxy(Toxic("bandwidth", attributes={"rate": 100})) as proxy:
            took = await round_trip(proxy.port, b"x" * 50 * 1024)  # 50 KB at 100 KB/s
            assert took >= 0.45
            assert proxy.stats.downstream_bytes == 50 * 1024
    asyncio.run(main())


def test_timeout_holds_data_then_closes_and_holds_for_ever_with_zero() -> None:
    async def main() -> None:
        async with echo_through_proxy(Toxic("timeout", attributes={"timeout": 400})) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"held")
            started = asyncio.get_running_loop().time()
            assert await reader.read(10) == b""  # nothing came back; then it was closed
            assert asyncio.get_running_loop().time() - started >= 0.35
            writer.close()
        async with echo_through_proxy(Toxic("timeout")) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"held")
            await writer.drain()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(reader.read(10), 0.5)
            await proxy.remove("timeout_downstream")  # removed: the held data goes through
            assert await asyncio.wait_for(reader.readexactly(4), 5) == b"held"
            writer.close()
    asyncio.run(main())


def test_reset_peer_resets_the_connection() -> None:
    async def main() -> None:
        async with echo_through_proxy(Toxic("reset_peer", attributes={"timeout": 200})) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            with pytest.raises(ConnectionResetError):
                while await reader.read(10) or True:
                    await asyncio.sleep(0.05)
                    writer.write(b"x")
                    await writer.drain()
            assert proxy.stats.resets == 1
    asyncio.run(main())


def test_slow_close_delays_the_close_and_limit_data_cuts_the_stream() -> None:
    async def main() -> None:
        async with echo_through_proxy(Toxic("slow_close", stream="upstream",
                                            attributes={"delay": 400})) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write_eof()  # the client closes its side ...
            started = asyncio.get_running_loop().time()
            assert await reader.read(10) == b""  # ... and the close comes back late
            assert asyncio.get_running_loop().time() - started >= 0.35
            writer.close()
        async with echo_through_proxy(Toxic("limit_data", attributes={"bytes": 1000})) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"y" * 5000)
            await writer.drain()
            received = b""
            while data := await asyncio.wait_for(reader.read(65536), 5):
                received += data
            assert len(received) == 1000  # exactly the limit, then the end
            writer.close()
    asyncio.run(main())


def test_down_refuses_connections_until_it_is_removed() -> None:
    async def main() -> None:
        async with echo_through_proxy() as proxy:
            api = ControlApi({"echo": proxy})
            client = ProxyClient(await api.start())
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
                writer.write(b"ping")
                assert await asyncio.wait_for(reader.readexactly(4), 5) == b"ping"
                await client.set_enabled("echo", False)
                # toxiproxy's enabled=false: the open connection is dropped too
                assert await asyncio.wait_for(reader.read(10), 5) == b""
                writer.close()
                with pytest.raises(ConnectionRefusedError):
                    await asyncio.open_connection("127.0.0.1", proxy.port)
                await client.set_enabled("echo", True)
                assert await round_trip(proxy.port) < 5
            finally:
                await api.stop()
    asyncio.run(main())


def test_control_api_speaks_toxiproxy_and_names_mistakes() -> None:
    async def main() -> None:
        async with echo_through_proxy() as proxy:
            api = ControlApi({"echo": proxy})
            client = ProxyClient(await api.start())
            try:
                made = await client.add_toxic("echo", {"type": "latency", "stream": "upstream",
                                                       "attributes": {"latency": 100}})
                assert made["name"] == "latency_upstream"
                listed = await client.proxies()
                assert listed["echo"]["toxics"][0]["attributes"] == {"latency": 100}
                for body, status, words in (
                        ({"type": "lag"}, 400, "latency, bandwidth"),
                        ({"type": "latency", "attributes": {"delay": 1}}, 400, "jitter"),
                        ({"type": "latency", "stream": "upstream"}, 409, "exists")):
                    with pytest.raises(HttpError) as refused:
                        await client.add_toxic("echo", body)
                    assert refused.value.status == status and words in refused.value.message
                with pytest.raises(HttpError) as missing:
                    await client.remove_toxic("echo", "nope")
                assert missing.value.status == 404
                await client.reset()
                assert proxy.toxics == {}
            finally:
                await api.stop()
    asyncio.run(main())


def test_toxic_specs_of_the_command_line() -> None:
    toxic = parse_spec("latency:latency=200,jitter=50,stream=upstream,toxicity=0.5")
    assert (toxic.type, toxic.stream, toxic.toxicity, dict(toxic.attributes)) == (
        "latency", "upstream", 0.5, {"latency": 200, "jitter": 50})
    with pytest.raises(ToxicError, match="key=value"):
        parse_spec("latency:200")
    assert parse_spec("latency:latency=200").stream == "downstream"  # toxiproxy's default
    with pytest.raises(ToxicError, match="probability from 0 to 1"):
        parse_spec("latency:latency=200,toxicity=1.5")


def test_a_module_behind_the_proxy_keeps_its_exit_codes(tmp_path: Path) -> None:
    """--module: the sidecar listens on GRPC_PORT, the module behind it; the module's exit
    code (here a crash's 3) and a death by signal come out of the sidecar unchanged."""
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("faults:\n  - {at: 1s, crash: {exit: 3}}\n")
    port = free_port()
    env = {**os.environ, "GRPC_PORT": str(port), "MEDIAGRID_MODULE_ID": "sim-p",
           "MEDIAGRID_SIM_JOURNAL": str(tmp_path / "journal")}
    command = [sys.executable, "-m", "mediagrid.simulator.proxy", "--module", "--",
               sys.executable, "-m", "mediagrid.simulator.module", str(scenario)]
    proc = subprocess.Popen(command, env=env, start_new_session=True,
                            stderr=subprocess.PIPE)
    try:
        assert proc.wait(30) == 3, proc.stderr.read().decode() if proc.stderr else ""
        journal = (tmp_path / "journal" / "sim-p.proxy.jsonl").read_text()
        assert f'"listen": "127.0.0.1:{port}"' in journal
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
