"""The conformance suite: checks a module, in any language, against docs/contract.md's rules."""
