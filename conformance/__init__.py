"""The conformance suite: checks a module, in any language, rule by rule against docs/contract.md."""
