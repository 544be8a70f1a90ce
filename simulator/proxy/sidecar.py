"""A module behind a fault proxy, as one process group: `mediagrid proxy --module -- CMD...`.

Put in a module.yaml's command, it makes every client of the module (the orchestrator, any
service) reach it through the proxy, without the orchestrator knowing: the proxy listens on
the GRPC_PORT the orchestrator gave, and runs CMD with GRPC_PORT set to a free port of its
own, behind it. Everything else of the contract carries over: the module's own exit code is
the sidecar's (a death by signal is passed on as the same signal), exit 98 of the module is
retried on another inner port, the sidecar exits 98 when GRPC_PORT itself is taken, SIGTERM
and SIGINT reach the module, and the module dies with the sidecar (parent-death signal).

The proxy's control API (api.py) listens on --control (default 127.0.0.1, a free port); its
address is printed on stderr and, with MEDIAGRID_SIM_JOURNAL set, written to
DIR/MODULE_ID.proxy.jsonl, where the chaos runner finds it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from mediagrid.process import die_with_parent_preexec, free_port
from mediagrid.simulator.proxy.api import ControlApi
from mediagrid.simulator.proxy.proxy import FaultProxy
from mediagrid.simulator.proxy.toxics import Toxic

EXIT_CONFIG, EXIT_PORT_IN_USE = 2, 98
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGHUP)


def split_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


async def run_sidecar(command: Sequence[str], *, name: str = "module",
                      control: str = "127.0.0.1:0", toxics: Sequence[Toxic] = (),
                      env: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    port = env.get("GRPC_PORT", "")
    if not port.isdigit():
        print("proxy --module: GRPC_PORT is not set to a port: the orchestrator sets it (or"
              " set GRPC_PORT=50051 by hand)", file=sys.stderr)
        return EXIT_CONFIG
    bind = env.get("MEDIAGRID_BIND_HOST") or "127.0.0.1"
    dial = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(bind, bind)
    proxy = FaultProxy(name, listen=(bind, int(port)), upstream=(dial, 0))
    try:
        await proxy.start()
    except OSError as exc:
        print(f"proxy --module: cannot listen on {bind}:{port} ({exc.strerror}): the port is"
              " taken", file=sys.stderr)
        return EXIT_PORT_IN_USE
    api = ControlApi({name: proxy})
    host, control_port = split_address(control)
    address = await api.start(host, control_port)
    for toxic in toxics:
        await proxy.add(toxic)
    _announce(env, name, proxy, address)
    try:
        return await _supervise(command, env, proxy)
    finally:
        await api.stop()
        await proxy.stop()


def _announce(env: Mapping[str, str], name: str, proxy: FaultProxy, control: str) -> None:
    print(f"fault proxy {name!r} on {proxy.address}, control API on http://{control}",
          file=sys.stderr, flush=True)
    folder = env.get("MEDIAGRID_SIM_JOURNAL", "")
    module_id = env.get("MEDIAGRID_MODULE_ID", "") or name
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        line = {"kind": "proxy", "t": time.time(), "pid": os.getpid(), "name": name,
                "listen": proxy.address, "control": control}
        with open(Path(folder) / f"{module_id}.proxy.jsonl", "a") as out:
            out.write(json.dumps(line) + "\n")


async def _supervise(command: Sequence[str], env: dict[str, str], proxy: FaultProxy) -> int:
    loop = asyncio.get_running_loop()
    for _ in range(10):
        inner = free_port(proxy.upstream[0])
        proxy.upstream = (proxy.upstream[0], inner)
        child = await asyncio.create_subprocess_exec(
            *command, env={**env, "GRPC_PORT": str(inner)},
            preexec_fn=die_with_parent_preexec())
        for sig in FORWARDED:
            loop.add_signal_handler(sig, _forward, child, sig)
        try:
            code = await child.wait()
        finally:
            for sig in FORWARDED:
                loop.remove_signal_handler(sig)
        if code != EXIT_PORT_IN_USE:
            break
    if code < 0:  # killed by a signal: die the same way, so the orchestrator sees it
        await proxy.stop()
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def _forward(child: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    if child.returncode is None:
        child.send_signal(sig)
