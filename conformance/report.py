"""Reports people act on: a table by rule, each failure with the rule text, what was
expected, what came back, the gRPC transcript and a one-line re-run; JSON and JUnit XML."""

from __future__ import annotations

import json
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mediagrid.conformance.results import Result, RunReport
from mediagrid.conformance.rules import load_rules

STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "skip": "cyan",
         "incomplete": "magenta", "n/a": "dim", "partial": "yellow", "could-not-run": "bold red"}
TRANSCRIPT_CALLS = 12


def rerun_line(report: RunReport, result: Result) -> str:
    return (f"mediagrid conformance {report.command} --rules {result.check.name} "
            f"--seed {report.seed}")


def print_report(report: RunReport, console: Console) -> None:
    if report.could_not_run:
        console.print(f"[bold red]could not run[/]: {escape(report.could_not_run)}")
        if report.module_output:
            console.print("the module's last output lines:")
            console.print(escape(report.module_output), highlight=False)
        return
    table = Table(title=f"mediagrid conformance: {report.module_id} ({report.manifest})",
                  title_justify="left")
    for column in ("rule", "level", "result", "checks", "why"):
        table.add_column(column, overflow="fold")
    for verdict in report.rule_verdicts():
        style = STYLE.get(verdict.status, "")
        table.add_row(verdict.rule.id, verdict.rule.level, f"[{style}]{verdict.status}[/]",
                      "\n".join(verdict.checks), escape(verdict.why[:160]))
    console.print(table)
    for result in report.results:
        if result.outcome == "fail":
            print_failure(report, result, console)
    for outcome, heading in (("skip", "[cyan]skipped[/] (the verdict is partial)"),
                             ("n/a", "[dim]not applicable[/] (not declared in module.yaml)")):
        listed = [r for r in report.results if r.outcome == outcome]
        if listed:
            console.print(f"\n{heading}:")
        for result in listed:
            console.print(f"  {result.check.name} ({', '.join(result.check.rules)}): "
                          f"{escape(result.reason)}")
    for problem in report.teardown_problems:
        console.print(f"[red]teardown[/]: {escape(problem)}")
    counts = report.counts()
    style = STYLE.get(report.verdict, "")
    console.print(f"\n[{style}]verdict: {report.verdict}[/] - {counts['pass']} passed, "
                  f"{counts['fail']} failed, {counts['skip']} skipped, {counts['n/a']} not "
                  "applicable checks; "
                  f"{len(report.rule_verdicts())} rules; {report.seconds:.1f} s; "
                  f"seed {report.seed} (exit {report.exit_code})")


def print_failure(report: RunReport, result: Result, console: Console) -> None:
    rule = load_rules().get(result.rule)
    console.rule(f"[bold red]FAIL {result.rule}[/] {result.check.name}", align="left")
    if rule is not None:
        console.print(f"[bold]rule {rule.id} ({rule.level})[/]: {escape(rule.text)}")
    console.print(f"[bold]check[/]: {escape(result.check.title)}")
    console.print(f"[bold]expected[/]: {escape(result.expected)}")
    console.print(f"[bold]got[/]: {escape(result.got)}")
    calls = result.transcript[-TRANSCRIPT_CALLS:]
    if calls:
        shown = (f"last {len(calls)} of {len(result.transcript)}"
                 if len(result.transcript) > len(calls) else str(len(calls)))
        console.print(f"[bold]transcript[/] ({shown} calls):")
        for call in calls:
            console.print(escape(call.line()), highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"note: {escape(note)}")
    console.print(f"[bold]re-run[/]: {escape(rerun_line(report, result))}", highlight=False,
                  soft_wrap=True)


def to_json(report: RunReport) -> dict[str, Any]:
    def result(r: Result) -> dict[str, Any]:
        body: dict[str, Any] = {"check": r.check.name, "rules": list(r.check.rules),
                                "title": r.check.title, "profile": r.check.profile,
                                "outcome": r.outcome, "seconds": round(r.seconds, 3)}
        if r.outcome == "fail":
            body.update(rule=r.rule, expected=r.expected, got=r.got,
                        rerun=rerun_line(report, r),
                        transcript=[c.to_dict() for c in r.transcript])
        if r.outcome in ("skip", "n/a"):
            body["reason"] = r.reason
        if r.notes:
            body["notes"] = r.notes
        return body

    return {
        "verdict": report.verdict, "exit_code": report.exit_code, "module_id": report.module_id,
        "manifest": report.manifest, "address": report.address, "mode": report.mode,
        "seed": report.seed, "seconds": round(report.seconds, 3),
        "could_not_run": report.could_not_run or None,
        "rules": [{"id": v.rule.id, "level": v.rule.level, "status": v.status,
                   "checks": v.checks, "why": v.why} for v in report.rule_verdicts()],
        "checks": [result(r) for r in report.results],
        "teardown_problems": report.teardown_problems,
    }


def write_json(report: RunReport, path: Path) -> None:
    path.write_text(json.dumps(to_json(report), indent=2) + "\n", encoding="utf-8")


def write_junit(report: RunReport, path: Path) -> None:
    counts = report.counts()
    suite = ET.Element("testsuite", name=f"mediagrid-conformance.{report.module_id}",
                       tests=str(len(report.results)), failures=str(counts["fail"]),
                       skipped=str(counts["skip"]), errors="1" if report.could_not_run else "0",
                       time=f"{report.seconds:.3f}")
    if report.could_not_run:
        case = ET.SubElement(suite, "testcase", classname="conformance", name="start")
        ET.SubElement(case, "error", message=report.could_not_run).text = report.module_output
    for result in report.results:
        family, _, name = result.check.name.partition(".")
        case = ET.SubElement(suite, "testcase", classname=f"conformance.{family}",
                             name=f"{name} [{' '.join(result.check.rules)}]",
                             time=f"{result.seconds:.3f}")
        if result.outcome == "fail":
            failure = ET.SubElement(case, "failure",
                                    message=f"{result.rule}: expected {result.expected}; "
                                    f"got {result.got}")
            lines = [c.line() for c in result.transcript]
            failure.text = "\n".join([*lines, f"re-run: {rerun_line(report, result)}"])
        elif result.outcome in ("skip", "n/a"):
            ET.SubElement(case, "skipped", message=result.reason)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def progress_line(result: Result, done: int, total: int) -> str:
    mark = {"pass": "pass", "fail": "FAIL", "skip": "skip", "n/a": "n/a"}[result.outcome]
    return f"[{done}/{total}] {mark} {result.check.name} ({', '.join(result.check.rules)})"


def shell_join(parts: list[str]) -> str:
    return " ".join(shlex.quote(p) for p in parts)
