"""Plain data of a run: one Result per check, and verdicts by rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mediagrid.conformance.registry import Check
from mediagrid.conformance.rules import Rule, load_rules, rule_key
from mediagrid.conformance.transcript import Call

Outcome = Literal["pass", "fail", "skip", "n/a"]
Verdict = Literal["pass", "fail", "partial", "could-not-run"]
EXIT_CODES: dict[str, int] = {"pass": 0, "fail": 1, "partial": 3, "could-not-run": 4}


@dataclass
class Result:
    check: Check
    outcome: Outcome
    seconds: float = 0.0
    rule: str = ""  # the rule broken (fail)
    expected: str = ""
    got: str = ""
    reason: str = ""  # why it was skipped
    transcript: list[Call] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class RuleVerdict:
    rule: Rule
    status: str  # pass, fail, warn (a SHOULD broken), skip, incomplete, unchecked
    checks: list[str]
    why: str = ""


@dataclass
class RunReport:
    module_id: str
    manifest: str
    address: str
    mode: str  # launch or address
    seed: int
    command: str  # how to re-run: the module argument(s) of the command line
    results: list[Result] = field(default_factory=list)
    could_not_run: str = ""
    module_output: str = ""
    teardown_problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    selection: tuple[str, ...] = ()
    recorder: object = None  # the EventRecorder of the run (the coverage matrix reads it)

    def rule_verdicts(self) -> list[RuleVerdict]:
        rules = load_rules()
        by_rule: dict[str, list[Result]] = {}
        for result in self.results:
            for rule in result.check.rules:
                by_rule.setdefault(rule, []).append(result)
        verdicts = []
        for rule_id in sorted(by_rule, key=rule_key):
            results = by_rule[rule_id]
            rule = rules.get(rule_id) or Rule(rule_id, "MUST", ("M",), "(not in the contract)")
            names = [r.check.name for r in results]
            failed = [r for r in results if r.outcome == "fail" and r.rule == rule_id]
            if failed:
                status = "warn" if rule.level != "MUST" else "fail"
                verdicts.append(RuleVerdict(rule, status, names, failed[0].got))
            elif any(r.outcome == "fail" for r in results):
                verdicts.append(RuleVerdict(rule, "incomplete", names,
                                            "a check citing it stopped on another rule"))
            elif all(r.outcome == "n/a" for r in results):
                verdicts.append(RuleVerdict(rule, "n/a", names, results[0].reason))
            elif all(r.outcome in ("skip", "n/a") for r in results):
                skipped = next(r for r in results if r.outcome == "skip")
                verdicts.append(RuleVerdict(rule, "skip", names, skipped.reason))
            else:
                verdicts.append(RuleVerdict(rule, "pass", names))
        return verdicts

    @property
    def verdict(self) -> Verdict:
        if self.could_not_run:
            return "could-not-run"
        statuses = {v.status for v in self.rule_verdicts()}
        if "fail" in statuses or "incomplete" in statuses or self.teardown_problems:
            return "fail"
        if "skip" in statuses or any(r.outcome == "skip" for r in self.results):
            return "partial"
        return "pass"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def counts(self) -> dict[str, int]:
        found = {"pass": 0, "fail": 0, "skip": 0, "n/a": 0}
        for result in self.results:
            found[result.outcome] += 1
        return found
