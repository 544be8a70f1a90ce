"""Durations as module.yaml writes them: "500ms", "5s", "1m", "1h", "1m30s", or bare seconds."""

from __future__ import annotations

import math
import re

UNITS: dict[str, float] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_PART = re.compile(rf"({_NUMBER})(ms|s|m|h)")
# The same pattern as $defs/duration in module.schema.json (a test keeps them equal).
DURATION_PATTERN = rf"^(?:{_NUMBER}|(?:{_NUMBER}(?:ms|s|m|h))+)$"
_DURATION = re.compile(DURATION_PATTERN)


def is_duration(value: object) -> bool:
    """True when `value` is something parse_duration accepts."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return is_finite(value) and value >= 0
    return isinstance(value, str) and _DURATION.match(value) is not None


def is_finite(value: float) -> bool:
    """False for .inf, .nan and an integer too large for a float (YAML reads all three)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def parse_duration(value: str | float) -> float:
    """Seconds in a duration: parse_duration("1m30s") == 90.0; a bare number is seconds.

    Raises ValueError with a message saying how to write one.
    """
    if isinstance(value, bool) or not is_duration(value):
        raise ValueError(f'{value!r} is not a duration; write it like "500ms" or "2s"')
    if isinstance(value, int | float):
        return float(value)
    if _PART.match(value) is None:
        return float(value)
    return sum(float(number) * UNITS[unit] for number, unit in _PART.findall(value))


def format_duration(seconds: float) -> str:
    """The shortest module.yaml spelling of a duration: 0.05 -> "50ms", 90 -> "90s"."""
    if seconds < 1 and seconds != 0:
        return f"{round(seconds * 1000, 3):g}ms"
    return f"{seconds:g}s"
