"""The mutation score: run the suite against each mutant with only the checks citing the rule
it breaks (`--rules RULE`), and count the mutants the suite caught *on that rule*.

    python -m mediagrid.simulator.mutants.score [NAME...]    (bench/mutation_score.py prints it)
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field

from mediagrid.conformance.results import RunReport
from mediagrid.conformance.runner import Options, run_suite
from mediagrid.manifest import ManifestError, load_manifest
from mediagrid.simulator.mutants.catalogue import BY_NAME, MUTANTS, Mutant


@dataclass
class Outcome:
    mutant: Mutant
    killed: bool
    failed_rules: list[str] = field(default_factory=list)
    verdict: str = ""
    seconds: float = 0.0
    report: RunReport | None = None

    def line(self) -> str:
        mark = "killed" if self.killed else "SURVIVED"
        rules = ", ".join(self.failed_rules) or "nothing failed"
        return (f"{mark:8} {self.mutant.name:34} breaks {self.mutant.rule:5} -> failed: {rules} "
                f"({self.verdict}, {self.seconds:.1f} s)")

    def why(self) -> str:
        """The failed checks' rule, expected and got (what a survivor failed on instead)."""
        if self.report is None:
            return ""
        return "\n".join(f"    {r.check.name}: {r.rule}: expected {r.expected}; got {r.got}"
                         for r in self.report.results if r.outcome == "fail")


async def run_mutant(mutant: Mutant, seed: int = 1) -> Outcome:
    started = time.monotonic()
    try:
        manifest = load_manifest(mutant.folder)
    except ManifestError as exc:  # the suite refuses the file (exit 2) naming the rule broken
        from mediagrid.conformance.checks.manifest import rule_of_problem

        rules = sorted({rule_of_problem(p.field_path, p.message) for p in exc.problems})
        return Outcome(mutant, mutant.rule in rules, rules, "invalid module.yaml",
                       time.monotonic() - started)
    report = await run_suite(manifest, Options(rules=(mutant.rule,), seed=seed))
    failed = [v.rule.id for v in report.rule_verdicts() if v.status in ("fail", "warn")]
    return Outcome(mutant, mutant.rule in failed, failed, report.verdict,
                   time.monotonic() - started, report)


async def run_all(mutants: tuple[Mutant, ...] = MUTANTS, concurrency: int = 3) -> list[Outcome]:
    limit = asyncio.Semaphore(concurrency)

    async def one(mutant: Mutant) -> Outcome:
        async with limit:
            return await run_mutant(mutant)
    return list(await asyncio.gather(*(one(m) for m in mutants)))


def score(outcomes: list[Outcome]) -> float:
    return 100.0 * sum(o.killed for o in outcomes) / len(outcomes) if outcomes else 0.0


def main(names: list[str]) -> int:
    chosen = tuple(BY_NAME[n] for n in names) if names else MUTANTS
    outcomes = asyncio.run(run_all(chosen))
    for outcome in outcomes:
        print(outcome.line())
    survivors = [o.mutant.name for o in outcomes if not o.killed]
    print(f"survivors: {', '.join(survivors) or 'none'}")
    print(f"mutation_score: {score(outcomes):.1f}")
    return 0 if not survivors else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
