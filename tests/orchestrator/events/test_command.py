"""`mediagrid events` against a real bus process: text, JSON lines, filters, cursors, exit
codes, and --follow carrying on across an orchestrator SIGKILL without loss or repeat."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from mediagrid.reference.orchestrator.events import follow
from mediagrid.reference.orchestrator.events.follow import Output
from mediagrid.v1 import event_pb2, event_pb2_grpc, orchestrator_pb2
from tests.orchestrator.events.harness import STALLED, BusProcess, report
from tests.support import eventually, free_port


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[BusProcess]:
    process = BusProcess(tmp_path / "state.sqlite", free_port())
    process.start()
    yield process
    process.kill()


def send(address: str, reports: list[event_pb2.ModuleReport]) -> None:
    """Sends the reports, one batch per instance (rule E-24)."""
    by_instance: dict[str, list[event_pb2.ModuleReport]] = {}
    for r in reports:
        by_instance.setdefault(r.header.instance_id, []).append(r)
    with grpc.insecure_channel(address) as channel:
        for batch in by_instance.values():
            event_pb2_grpc.EventServiceStub(channel).ReportBatch(
                event_pb2.ReportBatchRequest(reports=batch), timeout=10)


def events(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mediagrid.cli", "events", *args],
                          capture_output=True, text=True, timeout=60)


def sample(instance: str = "cam-i", start: int = 1) -> list[event_pb2.ModuleReport]:
    kinds = [(event_pb2.EVENT_TYPE_ENTITY_CREATED, event_pb2.EVENT_SEVERITY_INFO),
             (event_pb2.EVENT_TYPE_WARNING, event_pb2.EVENT_SEVERITY_WARNING),
             (event_pb2.EVENT_TYPE_ERROR, event_pb2.EVENT_SEVERITY_ERROR)]
    return [report(start + i, instance, "camera-1", f"camera says {i}", type=t, severity=s,
                   source_entity_id="cam") for i, (t, s) in enumerate(kinds)] + [
        report(start + 3, f"{instance}-other", "recorder", "recorder says hello")]


def test_events_prints_the_log_then_exits_0_with_the_cursor_to_go_on(bus: BusProcess) -> None:
    send(bus.address, sample())
    done = events("--address", bus.address)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    assert "camera-1" in lines[0] and "ENTITY_CREATED" in lines[0] and "cam" in lines[0]
    assert "ERROR" in lines[2] and "camera says 2" in lines[2]
    assert "4 shown" in done.stderr and "--follow --since " in done.stderr


def test_events_json_lines_filters_and_since(bus: BusProcess) -> None:
    send(bus.address, sample())
    done = events("--address", bus.address, "--json", "--module", "camera-1",
                  "--type", "error", "--type", "WARNING")
    assert done.returncode == 0, done.stderr
    *envelopes, summary = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["report"]["event"]["message"] for e in envelopes] == [
        "camera says 1", "camera says 2"]
    assert envelopes[0]["report"]["header"]["module_id"] == "camera-1"
    assert summary["ok"] is True and summary["shown"] == 2
    send(bus.address, sample(start=5))
    again = events("--address", bus.address, "--json", "--since", summary["resume_cursor"],
                   "--min-severity", "error")
    *more, last = [json.loads(line) for line in again.stdout.splitlines()]
    assert [e["report"]["header"]["sequence"] for e in more] == ["7"]
    assert last["shown"] == 1


def test_events_refuses_a_cursor_it_did_not_issue_with_exit_2(bus: BusProcess) -> None:
    done = events("--address", bus.address, "--since", "0000000000000001deadbeef", "--json")
    assert done.returncode == 2
    summary = json.loads(done.stdout.splitlines()[-1])
    assert summary["ok"] is False and "--since" in summary["error"]
    assert "another event log" in done.stderr


def test_events_without_an_orchestrator_exits_1_saying_what_to_do() -> None:
    done = events("--address", f"127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert "no orchestrator answers" in done.stderr and "mediagrid up" in done.stderr


def test_follow_goes_on_across_an_orchestrator_sigkill_without_loss_or_repeat(
        bus: BusProcess) -> None:
    follower = subprocess.Popen(
        [sys.executable, "-m", "mediagrid.cli", "events", "--address", bus.address,
         "--follow", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in follower.stdout], daemon=True).start()

    def take(n: int) -> list[dict]:  # type: ignore[type-arg]
        return [json.loads(lines.get(timeout=30)) for _ in range(n)]

    try:
        got: list[dict] = []  # type: ignore[type-arg]
        sent = 0
        while not got:  # report until the follower shows one: it has subscribed by then
            assert sent < 100, "the follower never showed anything"
            sent += 1
            send(bus.address, [report(sent)])
            try:
                got.append(json.loads(lines.get(timeout=0.2)))
            except queue.Empty:
                continue
        first = int(got[0]["report"]["header"]["sequence"])
        send(bus.address, [report(s) for s in range(sent + 1, sent + 4)])
        got += take(sent + 3 - first)
        bus.kill()
        bus.start()
        send(bus.address, [report(s) for s in range(sent + 4, sent + 7)])
        got += take(3)
        follower.send_signal(signal.SIGINT)
        assert follower.wait(15) == 0
        summary = json.loads(lines.get(timeout=10))
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
    seqs = [int(e["report"]["header"]["sequence"]) for e in got]
    assert seqs == list(range(first, sent + 7))
    assert summary["ok"] is True and summary["resume_cursor"] == got[-1]["cursor"]
    assert "reconnected" in follower.stderr.read()


class Collected(Output):
    """What `mediagrid events` would print, kept; the first envelope stalls it until
    `release` is set (a terminal that stopped reading)."""

    def __init__(self) -> None:
        super().__init__(as_json=True)
        self.sequences: list[int] = []
        self.notes: list[str] = []
        self.release = threading.Event()

    def envelope(self, envelope: orchestrator_pb2.EventEnvelope) -> None:
        if not self.sequences:
            self.release.wait(30)
        self.sequences.append(envelope.report.header.sequence)

    def note(self, message: str) -> None:
        self.notes.append(message)


def test_follow_resumes_after_lagged_from_its_cursor_without_loss_or_repeat(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """E-15 then E-12 from the client's side: cut off with LAGGED, `--follow` subscribes again
    with the LAGGED message's resume_cursor and shows every envelope exactly once."""
    bus = BusProcess(tmp_path / "state.sqlite", free_port(), "--subscriber-buffer", "5")
    bus.start()
    # As the stalled subscriber of the E-15 test: no BDP probing, so the stall is felt early.
    monkeypatch.setattr(follow, "RECONNECT_OPTIONS", (*follow.RECONNECT_OPTIONS, *STALLED))
    out = Collected()
    sent = 0

    def report_until_lagged() -> None:  # another thread: the follower's loop is stalled
        nonlocal sent
        try:
            while "fell more than 5 envelopes behind" not in bus.log.read_text():
                assert sent < 5000, "the follower was never cut off"
                # fewer than the buffer holds at once: only the stall can make it lag
                send(bus.address, [report(s, message="x" * 1000)
                                   for s in range(sent + 1, sent + 5)])
                sent += 4
        finally:
            out.release.set()

    async def scenario() -> None:
        watching = asyncio.create_task(follow.watch(
            follow.Watch(bus.address, orchestrator_pb2.EventFilter(), "", True), out))
        try:
            await eventually(lambda: out.cursor != "")  # at the live end
            await asyncio.to_thread(report_until_lagged)
            await eventually(lambda: len(out.sequences) >= sent, within=30)
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching

    try:
        asyncio.run(scenario())
    finally:
        out.release.set()
        bus.kill()
    assert any("fell behind" in note for note in out.notes)
    assert out.sequences == list(range(1, sent + 1))
