"""The contract's rules as data: ID, level, party and text, read from docs/contract.md.

The suite ships `rules.json` (package data) so an installed suite can quote the rule text in
its reports; `python -m mediagrid.conformance.rules` rewrites it from docs/contract.md, and a
test fails when the two drift apart.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

RULES_JSON = Path(__file__).with_name("rules.json")
CONTRACT = Path(__file__).resolve().parent.parent / "docs" / "contract.md"
ROW = re.compile(r"^\|\s*([A-Z]-\d+)\s*\|\s*(MUST|SHOULD|MAY)\s*\|\s*([MO](?:,\s*[MO])*)\s*\|"
                 r"\s*(.+?)\s*\|\s*$")
ID = re.compile(r"^([A-Z])-(\d+)$")


@dataclass(frozen=True)
class Rule:
    id: str
    level: str  # MUST, SHOULD, MAY
    parties: tuple[str, ...]  # ("M",), ("O",) or ("M", "O")
    text: str

    @property
    def module_rule(self) -> bool:
        """Kept by the module (party M): the suite must check it."""
        return "M" in self.parties

    @property
    def withdrawn(self) -> bool:
        return "withdrawn" in self.text.lower()[:40]


def rule_key(rule_id: str) -> tuple[str, int]:
    """Sort key: H-2 before H-10."""
    match = ID.match(rule_id)
    return (match[1], int(match[2])) if match else (rule_id, 0)


def parse_contract(text: str) -> list[Rule]:
    rules = []
    for line in text.splitlines():
        match = ROW.match(line)
        if match:
            parties = tuple(p.strip() for p in match[3].split(","))
            rules.append(Rule(match[1], match[2], parties, match[4]))
    return sorted(rules, key=lambda r: rule_key(r.id))


@cache
def load_rules() -> dict[str, Rule]:
    """Every rule of the contract by ID (from the shipped rules.json)."""
    data = json.loads(RULES_JSON.read_text(encoding="utf-8"))
    return {item["id"]: Rule(item["id"], item["level"], tuple(item["parties"]), item["text"])
            for item in data["rules"]}


def module_rules() -> list[Rule]:
    """The rules a module must keep (party M), withdrawn ones left out."""
    return [r for r in load_rules().values() if r.module_rule and not r.withdrawn]


def render(rules: list[Rule]) -> str:
    body = {"source": "docs/contract.md", "rules": [asdict(r) for r in rules]}
    return json.dumps(body, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    """Rewrites rules.json from docs/contract.md."""
    rules = parse_contract(CONTRACT.read_text(encoding="utf-8"))
    RULES_JSON.write_text(render(rules), encoding="utf-8")
    print(f"{RULES_JSON}: {len(rules)} rules", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
