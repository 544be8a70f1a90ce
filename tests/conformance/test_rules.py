"""The suite covers the contract: every module rule has a check, every MUST module rule a
mutant, and the rule table the suite ships matches docs/contract.md."""

from __future__ import annotations

from mediagrid.conformance.registry import all_checks
from mediagrid.conformance.rules import (
    CONTRACT,
    RULES_JSON,
    load_rules,
    module_rules,
    parse_contract,
    render,
)
from mediagrid.simulator.mutants.catalogue import MUTANTS


def test_rules_json_matches_the_contract() -> None:
    expected = render(parse_contract(CONTRACT.read_text(encoding="utf-8")))
    assert RULES_JSON.read_text(encoding="utf-8") == expected, (
        "conformance/rules.json is stale: run python -m mediagrid.conformance.rules")


def test_every_module_rule_has_a_check() -> None:
    checked = {rule for check in all_checks() for rule in check.rules}
    missing = [r.id for r in module_rules() if r.id not in checked]
    assert not missing, f"module rules without a conformance check: {', '.join(missing)}"


def test_checks_cite_only_module_rules_of_the_contract() -> None:
    rules = load_rules()
    for check in all_checks():
        for rule in check.rules:
            assert rule in rules, f"{check.name} cites {rule}, which docs/contract.md lacks"
            assert rules[rule].module_rule, f"{check.name} cites {rule}, an orchestrator rule"


def test_check_names_are_unique() -> None:
    names = [c.name for c in all_checks()]
    assert len(names) == len(set(names))


def test_every_must_module_rule_has_a_mutant() -> None:
    broken = {m.rule for m in MUTANTS}
    missing = [r.id for r in module_rules() if r.level == "MUST" and r.id not in broken]
    assert not missing, f"MUST module rules no mutant breaks: {', '.join(missing)}"


def test_every_mutant_breaks_a_module_rule() -> None:
    rules = load_rules()
    for mutant in MUTANTS:
        assert mutant.rule in rules and rules[mutant.rule].module_rule, mutant.name
