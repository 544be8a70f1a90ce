"""The suite as a pytest plugin, so a module's own repository runs it inside its tests:

    pytest --mediagrid-module path/to/module [--mediagrid-rules 'H-*,E-3'] [--mediagrid-seed N]

Each check becomes one test item (`conformance::entities.destroy_idempotent[N-6,N-12]`): it
passes, fails with the rule, what was expected, what came back and the calls made, or skips
with the reason. The suite runs once, at the first item; the module is started as the
orchestrator would start it and stopped at the end. A last item, `conformance::teardown`,
fails when the suite could not remove what it made or the module did not exit 0 when
stopped (contract §2.2), as the command's verdict does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mediagrid.conformance.registry import Check, all_checks
from mediagrid.conformance.results import Result, RunReport

REPORT = pytest.StashKey[RunReport]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mediagrid", "mediagrid conformance suite")
    group.addoption("--mediagrid-module", metavar="PATH",
                    help="run the conformance suite against this module (folder or module.yaml)")
    group.addoption("--mediagrid-rules", metavar="PATTERNS", default="",
                    help="only the checks citing these rules: 'H-*,E-3'")
    group.addoption("--mediagrid-seed", metavar="N", type=int, default=None,
                    help="the order of the checks (printed in the report)")


def _patterns(config: pytest.Config) -> tuple[str, ...]:
    text = config.getoption("--mediagrid-rules") or ""
    return tuple(p.strip() for p in text.split(",") if p.strip())


class ConformanceItem(pytest.Item):
    def __init__(self, *, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.result: Result | None = None

    def runtest(self) -> None:
        report = _report(self.config)
        if report.could_not_run:
            pytest.fail(f"could not run the suite: {report.could_not_run}\n"
                        f"{report.module_output}", pytrace=False)
        self.result = next((r for r in report.results if r.check.name == self.check.name), None)
        if self.result is None:
            pytest.skip("not run")
        if self.result.outcome in ("skip", "n/a"):
            pytest.skip(self.result.reason)
        if self.result.outcome == "fail":
            raise ConformanceFailure(self.result, report)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, ConformanceFailure):
            return excinfo.value.describe()
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int, str]:
        return ("conformance", 0, f"{self.check.name} [{', '.join(self.check.rules)}]")


class TeardownItem(pytest.Item):
    """The run's end: everything the suite made removed, the module stopped with exit 0."""

    def runtest(self) -> None:
        report = _report(self.config)
        if report.could_not_run:
            pytest.skip("the suite could not run")
        if report.teardown_problems:
            pytest.fail("\n".join(report.teardown_problems), pytrace=False)

    def reportinfo(self) -> tuple[str, int, str]:
        return ("conformance", 0, "teardown: resources removed, the module exits 0 (§2.2)")


class ConformanceFailure(AssertionError):
    def __init__(self, result: Result, report: RunReport) -> None:
        super().__init__(result.got)
        self.result, self.report = result, report

    def describe(self) -> str:
        from mediagrid.conformance.rules import load_rules

        r = self.result
        rule = load_rules().get(r.rule)
        lines = [f"{r.rule}: {rule.text if rule else ''}", f"expected: {r.expected}",
                 f"got: {r.got}", "transcript:"]
        lines += [call.line() for call in r.transcript[-12:]]
        lines.append(f"seed {self.report.seed}")
        return "\n".join(lines)


def _report(config: pytest.Config) -> RunReport:
    if REPORT not in config.stash:
        from mediagrid.conformance.runner import Options, run_suite
        from mediagrid.manifest import load_manifest

        manifest = load_manifest(config.getoption("--mediagrid-module"))
        options = Options(rules=_patterns(config), seed=config.getoption("--mediagrid-seed"))
        config.stash[REPORT] = asyncio.run(run_suite(manifest, options))
    return config.stash[REPORT]


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    if not config.getoption("--mediagrid-module"):
        return
    patterns = _patterns(config)
    for check in all_checks():
        if patterns and not check.selected_by(patterns):
            continue
        items.append(ConformanceItem.from_parent(
            session, name=f"conformance::{check.name}[{','.join(check.rules)}]", check=check))
    items.append(TeardownItem.from_parent(session, name="conformance::teardown"))
