"""docs/contract.md is the normative text: every rule has an ID, a level and a party, and every
rule the code, the proto files and the docs cite exists."""

from __future__ import annotations

import re
from collections import defaultdict

from tests.support import ROOT

CONTRACT = ROOT / "docs" / "contract.md"
RULE_ROW = re.compile(r"^\| ([HNPECS])-(\d+) \| ([^|]*) \| ([^|]*) \| (.+) \|$")


def _rules() -> dict[str, tuple[str, str, str]]:
    rules: dict[str, tuple[str, str, str]] = {}
    for line in CONTRACT.read_text().splitlines():
        match = RULE_ROW.match(line)
        if match:
            prefix, number, level, party, text = match.groups()
            rule = f"{prefix}-{number}"
            assert rule not in rules, f"{rule} is defined twice"
            rules[rule] = (level.strip(), party.strip(), text.strip())
    return rules


def test_every_rule_has_a_level_a_party_and_text() -> None:
    rules = _rules()
    assert len(rules) >= 70
    for rule, (level, party, text) in rules.items():
        assert level in {"MUST", "SHOULD", "MAY"}, f"{rule}: level {level!r}"
        assert party in {"M", "O", "M, O"}, f"{rule}: party {party!r}"
        assert len(text) > 20, f"{rule}: the rule text is missing"


def test_rule_ids_are_contiguous_per_prefix() -> None:
    numbers: dict[str, list[int]] = defaultdict(list)
    for rule in _rules():
        prefix, number = rule.split("-")
        numbers[prefix].append(int(number))
    assert set(numbers) == set("HNPECS")
    for prefix, found in numbers.items():
        assert sorted(found) == list(range(1, max(found) + 1)), f"{prefix}: gaps in {found}"


def test_every_cited_rule_exists() -> None:
    rules = _rules()
    sources = [
        *ROOT.glob("proto/mediagrid/v1/*.proto"),
        *ROOT.glob("docs/*.md"),
        *(p for p in ROOT.glob("mediagrid/**/*.py") if "v1" not in p.parts),
        *ROOT.glob("reference/**/*.py"),
        *ROOT.glob("simulator/**/*.py"),
    ]
    missing = []
    for path in sources:
        text = path.read_text()
        for cited in set(re.findall(r"\b[HNPECS]-\d+\b", text)) - rules.keys():
            if re.search(rf"rules?[^.\n]{{0,40}}\b{cited}\b", text):
                missing.append(f"{path.relative_to(ROOT)}: {cited}")
    assert not missing, f"rules cited but not in docs/contract.md: {sorted(set(missing))}"
