"""`mediagrid events` against a real bus process: text, JSON lines, filters, cursors, exit
codes, and --follow carrying on across an orchestrator SIGKILL without loss or repeat."""

from __future__ import annotations

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

from mediagrid.v1 import event_pb2, event_pb2_grpc
from tests.orchestrator.events.harness import BusProcess, report
from tests.support import free_port


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
