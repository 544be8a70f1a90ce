"""Mutant modules: deliberate, named violations of the contract that the conformance suite
must catch, each on the rule it breaks (docs/conformance.md, "Mutant catalogue")."""
