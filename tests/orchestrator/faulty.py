"""A small SDK module the orchestrator tests make misbehave.

    python faulty.py module.yaml

Entity types (declare the ones a test needs in its module.yaml):
  thing  (source, video)  a plain entity; a flow through it idles until stopped
  sink   (sink, video)    likewise, as a target
  fault  (source, video)  creating one acts at once after answering, by config["action"]:
                          crash (exit 1), hang (the event loop blocks: HealthCheck stops
                          answering), exec (the process re-executes itself: same pid, new
                          instance_id, as a module restarted behind the orchestrator's back)
Environment:
  IGNORE_STOP=1   the Shutdown RPC is answered but ignored, and SIGTERM is ignored
  CRASH_AFTER=S   exit 1 S seconds after READY, while the file FLAP_FILE exists (or always
                  when FLAP_FILE is unset): a module that flaps
  START_DELAY=S   READY only S seconds after serving (a slow start-up)
  PORT_TAKEN_ONCE=FILE   exit 98 (port taken) when FILE does not exist yet, creating it
  ENV_DUMP=FILE   write the process's environment and argv to FILE (JSON) at start
"""

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

from mediagrid import sdk
from mediagrid.sdk.server import ModuleServer

module = sdk.Module.from_manifest(Path(sys.argv[1] if len(sys.argv) > 1 else "module.yaml"))


class Idle(sdk.Entity):
    async def start(self, link: sdk.Link) -> None:
        link.spawn(asyncio.sleep(3600))  # cancelled at StopFlow


class Fault(sdk.Entity):
    async def create(self) -> None:
        action = self.config.get("action", "")
        loop = asyncio.get_running_loop()
        if action == "crash":
            loop.call_later(0.05, os._exit, 1)
        elif action == "hang":
            loop.call_later(0.05, time.sleep, 3600)
        elif action == "exec":
            loop.call_later(0.05, os.execv, sys.executable, [sys.executable, *sys.argv])
        else:
            raise sdk.InvalidArgument(f"config.action {action!r}: use crash, hang or exec")


for name, cls in (("thing", Idle), ("sink", Idle), ("fault", Fault)):
    if name in module.entity_types:
        module.entity(name)(type(name.title(), (cls,), {}))


class Stubborn(ModuleServer):
    def request_shutdown(self, grace: float = 5.0, reason: str = "") -> bool:
        print(f"Shutdown received ({reason}); ignored", file=sys.stderr, flush=True)
        return True


@module.on_startup
async def slow_start(runtime: sdk.ModuleRuntime) -> None:
    await asyncio.sleep(float(os.environ.get("START_DELAY", "0")))


async def main() -> int:
    stubborn = os.environ.get("IGNORE_STOP") == "1"
    server = (Stubborn if stubborn else ModuleServer)(module, sdk.Settings.from_env())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        if stubborn:
            loop.add_signal_handler(sig, lambda s=sig: print(f"{s.name} received; ignored",
                                                             file=sys.stderr, flush=True))
        else:
            loop.add_signal_handler(sig, server.request_shutdown, 5.0, sig.name)
    try:
        await server.start()
    except sdk.PortInUse:
        return sdk.EXIT_PORT_IN_USE
    crash_after = float(os.environ.get("CRASH_AFTER", "0"))
    if crash_after:
        loop.call_later(crash_after, flap)
    await server.run()
    return 0


def flap() -> None:
    flag = os.environ.get("FLAP_FILE", "")
    if not flag or os.path.exists(flag):
        os._exit(1)


if __name__ == "__main__":
    if dump := os.environ.get("ENV_DUMP"):
        Path(dump).write_text(json.dumps({"env": dict(os.environ), "argv": sys.argv,
                                          "pid": os.getpid(), "pgid": os.getpgid(0)}))
    if (once := os.environ.get("PORT_TAKEN_ONCE")) and not Path(once).exists():
        Path(once).write_text("taken")
        sys.exit(sdk.EXIT_PORT_IN_USE)
    sys.exit(asyncio.run(main()))
