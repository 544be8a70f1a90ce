"""Security and limits (rules S-1 to S-5)."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2

from mediagrid.conformance.context import CheckContext
from mediagrid.conformance.registry import SECURITY, Checks
from mediagrid.v1 import entity_pb2, module_pb2

CHECKS = Checks("security")
C = grpc.StatusCode


def proc_sockets(protocol: str, port: int, state: str | None = "0A") -> list[str] | None:
    """Local addresses of the sockets on `port` (Linux /proc/net; TCP: LISTENing ones), None
    where /proc is not there."""
    found = []
    for suffix, family in (("", socket.AF_INET), ("6", socket.AF_INET6)):
        try:
            lines = Path(f"/proc/net/{protocol}{suffix}").read_text().splitlines()[1:]
        except OSError:
            return None
        for line in lines:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if int(hex_port, 16) != port or (state is not None and fields[3] != state):
                continue
            raw = bytes.fromhex(address)
            if family == socket.AF_INET:
                found.append(socket.inet_ntop(family, raw[::-1]))
            else:
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                found.append(socket.inet_ntop(family, words))
    return found


def listening_addresses(port: int) -> list[str] | None:
    return proc_sockets("tcp", port)


def loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


@CHECKS.check("S-1", title="binds loopback unless told otherwise")
async def binds_loopback(ctx: CheckContext) -> None:
    host, _, port = ctx.suite.target.address.rpartition(":")
    if not ipaddress.ip_address(host.strip("[]")).is_loopback:
        raise ctx.skip(f"the module was given the non-loopback address {host}")
    found = listening_addresses(int(port))
    if found is None:
        raise ctx.skip("cannot read /proc/net/tcp on this system")
    if not found:
        raise ctx.skip(f"no listening socket on port {port} on this machine (a remote module?)")
    wide = [a for a in found if not loopback(a)]
    ctx.require(not wide, "S-1", f"only loopback addresses listening on port {port}",
                f"listening on {', '.join(wide)}")


@CHECKS.check("S-5", title="a message over 4 MiB is refused with RESOURCE_EXHAUSTED")
async def refuses_large_messages(ctx: CheckContext) -> None:
    huge = entity_pb2.CreateEntityRequest(entity_type="x", name="n" * (5 * 1024 * 1024))
    await ctx.expect_code(ctx.entities.CreateEntity, huge, C.RESOURCE_EXHAUSTED, "S-5",
                          "a 5 MiB CreateEntity")
    await ctx.ok(ctx.module.HealthCheck, module_pb2.HealthCheckRequest(), "S-5",
                 "HealthCheck after the refused message (the module still serves)", deadline=2.0)


def needs_token(manifest) -> str | None:  # type: ignore[no-untyped-def]
    return None if manifest.security.token else "module.yaml does not say security.token: true"


@CHECKS.check("S-2", "S-3", "S-8", profile=SECURITY, needs=[needs_token], launch_only=True,
              timeout=40.0, title="with MEDIAGRID_TOKEN: calls without the token or with another "
              "are UNAUTHENTICATED, health and reflection stay open, reports carry the token")
async def token_checked(ctx: CheckContext) -> None:
    token = secrets.token_urlsafe(16)
    async with ctx.launch(token=token) as process:
        channels = {"no token": ctx.channel(process.address, token=""),
                    "a wrong token": ctx.channel(process.address, token="conformance-wrong"),
                    "the token": ctx.channel(process.address, token=token)}
        for what, channel in channels.items():
            ctx.stubs(channel)
            want = C.OK if what == "the token" else C.UNAUTHENTICATED
            for rpc, request in ((ctx.module.HealthCheck, module_pb2.HealthCheckRequest()),
                                 (ctx.entities.ListEntities, entity_pb2.ListEntitiesRequest())):
                got, details = await ctx.code(rpc, request)
                ctx.require(got == want, "S-2", f"{want.name} with {what}",
                            f"{got.name} {details}".strip())
            got, details = await ctx.code(ctx.health.Check, health_pb2.HealthCheckRequest())
            ctx.require(got == C.OK, "S-2", f"grpc.health.v1 Check open with {what}",
                        f"{got.name} {details}")
        ctx.stubs(ctx.channel(process.address, token=""))
        for metadata, want, what in (
                ((("authorization", f"bearer {token}"),), C.OK, "'bearer' in lower case"),
                ((("authorization", f"Bearer  {token}"),), C.UNAUTHENTICATED, "two spaces"),
                ((("authorization", f"Bearer {token}x"),), C.UNAUTHENTICATED, "a longer token"),
                ((("authorization", f"Bearer {token}"), ("authorization", f"Bearer {token}")),
                 C.UNAUTHENTICATED, "two authorization values")):
            got, details = await ctx.code(ctx.module.HealthCheck, module_pb2.HealthCheckRequest(),
                                          metadata=metadata)
            ctx.require(got == want, "S-8", f"{want.name} with {what}",
                        f"{got.name} {details}".strip())
        ctx.stubs(channels["the token"])
        found = ctx.creatable()
        if found:
            await ctx.create_entity(*found[0], rule="S-2")
        instance = process.ready.status.instance_id if process.ready else ""

        def reported() -> bool:
            return any(a.instance == instance for a in ctx.recorder.attempts)
        if ctx.suite.events is not None and found:
            ctx.require(await ctx.recorder.wait_for(reported, within=5.0), "S-3",
                        "reports from the instance started with a token", "none within 5 s")
            bad = [a for a in ctx.recorder.attempts
                   if a.instance == instance and a.authorization != f"Bearer {token}"]
            ctx.require(not bad, "S-3", "'authorization: Bearer <token>' on every report call",
                        f"{bad[0].authorization or 'no authorization'}" if bad else "")
        await ctx.suite.tracker.teardown(channels["the token"], ctx.check.name)
