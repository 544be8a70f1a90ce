"""`mediagrid up`: the orchestrator in the foreground, showing each module as it comes up.

Ctrl-C or SIGTERM: every module by the shutdown ladder, then exit 0. A second Ctrl-C: SIGKILL
to every module's process group and exit 130 at once. SIGHUP: rescan the module folders.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from mediagrid.reference.orchestrator.discovery import RescanResult
from mediagrid.reference.orchestrator.extras import Extras
from mediagrid.reference.orchestrator.module_events import Notice
from mediagrid.reference.orchestrator.modules import (
    DEGRADED,
    ERROR,
    HEALTHY,
    READY,
    STARTING,
    UNHEALTHY,
    health_name,
    state_name,
)

if TYPE_CHECKING:
    from mediagrid.reference.orchestrator.app import Orchestrator
    from mediagrid.reference.stacks.model import Stack

EXIT_OK, EXIT_FAILURE, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130


class Screen:
    """What `mediagrid up` prints on stderr (the modules' own output is there too)."""

    def __init__(self) -> None:
        self.out = Console(stderr=True, highlight=False, soft_wrap=True)
        self.width = 12

    def notice(self, n: Notice) -> None:
        name = f"[bold]{escape(n.module_id):<{self.width}}[/]"
        why = f"  [dim]{escape(n.text)}[/]" if n.text else ""
        if n.kind == "restarted":
            self.out.print(f"{name} [yellow]restarted[/]  new instance {n.instance_id[:8]}{why}")
            return
        if n.kind != "changed":
            self.out.print(f"{name} {escape(n.text)}")
            return
        colour = ("red" if n.state == ERROR or n.health == UNHEALTHY else
                  "yellow" if n.health == DEGRADED or n.state != READY else "green")
        state = state_name(n.state) + ("" if n.health == HEALTHY else f"/{health_name(n.health)}")
        if n.state == READY and n.old_state != READY:
            why = f"  on {n.address}, pid {n.pid}, instance {n.instance_id[:8]}{why}"
        elif n.state == STARTING and n.old_state != STARTING:
            why = f"  pid {n.pid or '-'}{why}"
        self.out.print(f"{name} [{colour}]{state}[/]{why}")

    def scan(self, result: RescanResult, first: bool) -> None:
        for problem in result.problems:
            self.out.print(f"[red]skipped[/] {escape(str(problem))}")
        if not first:
            changes = [f"added {', '.join(m.id for m in result.added)}" if result.added else "",
                       f"removed {', '.join(result.removed)}" if result.removed else "",
                       f"replaced {', '.join(m.id for m in result.changed)}"
                       if result.changed else ""]
            text = "; ".join(c for c in changes if c) or "no change"
            self.out.print(f"[bold]rescan:[/] {escape(text)}")


def run_up(module_dirs: Sequence[Path], *, address: str, state: Path,
           retain_events: int = 100_000, retain_seconds: float = 24 * 3600.0,
           stack: Stack | None = None, metrics: str = "") -> int:
    screen = Screen()
    missing = [d for d in module_dirs if not d.exists()]
    if missing:
        for folder in missing:
            screen.out.print(f"[red]error:[/] --modules {escape(str(folder))}: no such folder;"
                             " give folders that hold module.yaml files")
        return EXIT_INVALID
    if stack is not None:
        module_dirs = [*module_dirs, *stack.module_dirs]
    try:
        return asyncio.run(_serve(screen, [d.resolve() for d in module_dirs], address,
                                  state.resolve(), (retain_events, retain_seconds),
                                  stack, metrics))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


async def _serve(screen: Screen, module_dirs: Sequence[Path], address: str,
                 state: Path, retain: tuple[int, float], stack: Stack | None = None,
                 metrics: str = "") -> int:
    from mediagrid.reference.orchestrator.app import Orchestrator
    from mediagrid.reference.orchestrator.events import EventSettings
    from mediagrid.reference.orchestrator.server import AddressInUse
    from mediagrid.reference.orchestrator.settings import OrchestratorSettings, SettingsError

    try:
        settings = OrchestratorSettings.from_env(
            module_dirs=tuple(module_dirs), address=address, state_path=state)
        events = EventSettings(retain_envelopes=retain[0], retain_seconds=retain[1])
        app = Orchestrator(settings, event_settings=events)
        app.reporter.listeners.append(screen.notice)
        await app.start()
    except SettingsError as exc:
        screen.out.print(f"[red]error:[/] {escape(str(exc))}")
        return EXIT_INVALID
    except AddressInUse as exc:
        screen.out.print(f"[red]error:[/] {escape(str(exc))}")
        return EXIT_FAILURE
    screen.width = max([screen.width, *(len(s.id) for s in app.modules)])
    screen.out.print(f"mediagrid orchestrator on [bold]{app.address}[/] (state"
                     f" {escape(str(settings.state_path))}); {len(app.modules)} module(s);"
                     " Ctrl-C stops everything")
    screen.scan(app.last_scan, first=True)
    extras = Extras(app, screen, stack, metrics)
    return await _until_stopped(app, screen, extras)


async def _until_stopped(app: Orchestrator, screen: Screen, extras: Extras | None = None) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    rescans: set[asyncio.Task[None]] = set()

    def interrupted() -> None:
        if stop.is_set():  # the second Ctrl-C: at once
            app.kill_now()
            screen.out.print("[red]killed every module at once[/]")
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        screen.out.print("stopping every module (Ctrl-C again kills them at once)")
        stop.set()

    async def rescan() -> None:
        screen.scan(await app.rescan(), first=False)

    def hangup() -> None:
        task = asyncio.ensure_future(rescan())
        rescans.add(task)
        task.add_done_callback(rescans.discard)

    loop.add_signal_handler(signal.SIGINT, interrupted)
    loop.add_signal_handler(signal.SIGTERM, interrupted)
    loop.add_signal_handler(signal.SIGHUP, hangup)
    code = EXIT_OK
    try:
        if extras is not None:
            code = await extras.run_until(stop)
        await stop.wait()
        if extras is not None:
            await extras.stop()
        await app.stop()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
    screen.out.print("stopped")
    return code
