"""Verdicts, exit codes, reports and the coverage matrix, judged on recorded results (no
module runs): what a CI job reads from `mediagrid conformance` must follow from the results.

Written by the issue-8 mutation audit (audit-8); each test names the planted bug (P-id in
/work/coord/audit-8.md terms) it was added to catch.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from mediagrid.conformance import coverage
from mediagrid.conformance.recorder import Attempt, EventRecorder
from mediagrid.conformance.registry import Check, all_checks
from mediagrid.conformance.report import print_report, to_json, write_junit
from mediagrid.conformance.results import Result, RunReport
from mediagrid.conformance.transcript import MAX_TEXT, Call, brief
from mediagrid.v1 import event_pb2


async def _nothing(ctx: object) -> None:
    return None


def check(name: str, *rules: str) -> Check:
    return Check(name=name, rules=rules, title=f"the {name} check", function=_nothing)


def report(*results: Result, **kwargs: object) -> RunReport:
    made = RunReport(module_id="m", manifest="m/module.yaml", address="127.0.0.1:1",
                     mode="launch", seed=5, command="m", **kwargs)  # type: ignore[arg-type]
    made.results = list(results)
    return made


def statuses(run: RunReport) -> dict[str, str]:
    return {v.rule.id: v.status for v in run.rule_verdicts()}


def test_teardown_problems_fail_the_run() -> None:  # P02
    run = report(Result(check("a.x", "N-6"), "pass"),
                 teardown_problems=["teardown of entity cf-1 (made by a.x) failed: INTERNAL"])
    assert run.verdict == "fail" and run.exit_code == 1


def test_a_broken_should_rule_warns_and_does_not_fail_the_run() -> None:  # P03
    # E-10 is a SHOULD rule: breaking it is reported (warn) but the exit code stays 0
    run = report(Result(check("events.x", "E-10"), "fail", rule="E-10", got="a 600 batch"))
    assert statuses(run)["E-10"] == "warn"
    assert run.verdict == "pass" and run.exit_code == 0


def test_a_rule_whose_check_stopped_on_another_rule_is_incomplete() -> None:  # P04
    run = report(Result(check("a.x", "N-6", "N-12"), "fail", rule="N-12", got="listed"))
    assert statuses(run) == {"N-6": "incomplete", "N-12": "fail"}


def test_a_rule_with_a_passing_and_a_not_applicable_check_passes() -> None:  # P05
    run = report(Result(check("a.x", "N-6"), "pass"),
                 Result(check("b.y", "N-6"), "n/a", reason="no sink"))
    assert statuses(run)["N-6"] == "pass"
    only_na = report(Result(check("b.y", "N-6"), "n/a", reason="no sink"))
    assert statuses(only_na)["N-6"] == "n/a" and only_na.exit_code == 0


def test_skips_make_the_run_partial_exit_3() -> None:  # P01
    run = report(Result(check("a.x", "N-6"), "pass"),
                 Result(check("b.y", "H-2"), "skip", reason="needs the suite to start it"))
    assert run.verdict == "partial" and run.exit_code == 3
    assert report(could_not_run="exited with code 3").exit_code == 4


def test_rules_select_case_insensitively() -> None:  # P12
    destroy = next(c for c in all_checks() if c.name == "entities.destroy_idempotent")
    assert destroy.selected_by(["n-6"]) and destroy.selected_by(["N-*"])
    assert not destroy.selected_by(["h-2"])


def test_junit_marks_skips_and_could_not_run(tmp_path: Path) -> None:  # P27, P28
    run = report(Result(check("a.x", "N-6"), "pass"),
                 Result(check("b.y", "H-2"), "skip", reason="needs the suite to start it"),
                 Result(check("c.z", "N-5"), "fail", rule="N-5", expected="NOT_FOUND", got="OK"))
    write_junit(run, tmp_path / "j.xml")
    suite = ET.parse(tmp_path / "j.xml").getroot()
    cases = {c.get("name", "").split(" ")[0]: c for c in suite.iter("testcase")}
    assert cases["y"].find("skipped") is not None and suite.get("skipped") == "1"
    assert cases["z"].find("failure") is not None and suite.get("failures") == "1"
    assert cases["x"].find("skipped") is None and cases["x"].find("failure") is None

    write_junit(report(could_not_run="exited with code 3"), tmp_path / "c.xml")
    crashed = ET.parse(tmp_path / "c.xml").getroot()
    assert crashed.get("errors") == "1"
    assert next(crashed.iter("testcase")).find("error") is not None


def test_json_names_the_rule_broken_not_the_checks_first_rule() -> None:  # P29
    run = report(Result(check("entities.destroy_idempotent", "N-6", "N-12"), "fail",
                        rule="N-12", expected="not listed", got="listed"))
    failed = to_json(run)["checks"][0]
    assert failed["rule"] == "N-12" and failed["rerun"].endswith("--seed 5")


def test_printed_transcript_keeps_the_last_calls(tmp_path: Path) -> None:  # P30
    calls = [Call(f"/mediagrid.v1.EntityService/Call{n}", "", "OK", "", "", n, 0.001)
             for n in range(30)]
    calls[-1].status = "INTERNAL"
    run = report(Result(check("a.x", "N-5"), "fail", rule="N-5", expected="NOT_FOUND",
                        got="INTERNAL", transcript=calls))
    out = io.StringIO()
    print_report(run, Console(file=out, width=200))
    text = out.getvalue()
    assert "Call29 " in text and "INTERNAL" in text and "Call0 " not in text
    assert "last 12 of 30" in text


def test_brief_keeps_a_message_of_exactly_the_limit() -> None:  # P25
    assert brief("x" * MAX_TEXT) == "x" * MAX_TEXT
    assert brief("x" * (MAX_TEXT + 1)).endswith(f"... ({MAX_TEXT + 1} chars)")


def test_coverage_counts_transcripts_fields_and_the_modules_reports() -> None:  # P31, P32
    create = Call("/mediagrid.v1.EntityService/CreateEntity", "", "OK", "", "", 0.0, 0.0,
                  frozenset({"entity_type", "MEDIA_TYPE_AUDIO"}))
    run = report(Result(check("entities.x", "N-3"), "pass", transcript=[create]))
    recorder = EventRecorder()
    batch = event_pb2.ModuleReport(header=event_pb2.ReportHeader(sequence=1))
    recorder.attempts.append(Attempt(batch, 0.0, "batch", "accepted", "", 1, 1))
    found = {i.name: i.checks for i in coverage.matrix(run, recorder)}
    assert found["EntityService/CreateEntity"] == {"entities.x"}
    assert found["CreateEntityRequest.entity_type"] == {"entities.x"}
    assert found["MediaType.MEDIA_TYPE_AUDIO"] == {"entities.x"}
    assert found["CreateEntityRequest.config"] == set()  # not in the call's tokens
    assert found["EventService/ReportBatch"] == {coverage.REPORTS}
    assert found["EventService/ReportEvent"] == set()


def attempts(*calls: tuple[list[int], str]) -> list[Attempt]:
    """Recorded calls: (sequences, outcome), numbered 1, 2, 3... in arrival order."""
    made = []
    for number, (sequences, outcome) in enumerate(calls, start=1):
        for sequence in sequences:
            report = event_pb2.ModuleReport(header=event_pb2.ReportHeader(
                instance_id="i-1", sequence=sequence))
            made.append(Attempt(report, 0.0, "batch", outcome, "", len(sequences), number))
    return made


def test_e3_no_report_is_sent_past_the_one_not_yet_acknowledged() -> None:  # P35
    from mediagrid.conformance.checks.events import sent_ahead

    retried = attempts(([7], "refused"), ([7], "refused"), ([7, 8], "accepted"), ([9], "accepted"))
    assert sent_ahead(retried) is None
    ahead = attempts(([7], "refused"), ([8], "accepted"))  # 8 sent before 7 got through
    assert sent_ahead(ahead) == ("no report sent before #7 is acknowledged",
                                 "a call starting at #8")


def test_e10_batches_hold_at_most_500_contiguous_reports() -> None:  # P36
    from mediagrid.conformance.checks.events import batch_problem

    assert batch_problem(attempts((list(range(1, 501)), "accepted"), ([501], "accepted"))) is None
    assert batch_problem(attempts((list(range(1, 502)), "accepted"))) == (
        "at most 500 reports a batch", "501")
    assert batch_problem(attempts(([1, 3], "accepted")))[0] == (  # type: ignore[index]
        "ascending contiguous sequences in a batch")
