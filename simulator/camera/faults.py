"""The camera's faults: what each one does, and the `NAME[=VALUE]` spelling the CLI, the
control channel and the fixture share.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

BROKEN_SDP_KINDS = ("malformed", "no-media")

# name -> (what it does, what its value is)
FAULTS: dict[str, tuple[str, str]] = {
    "refuse": ("stop listening: connecting gets 'connection refused'", "no value"),
    "reset": ("accept each connection and close it at once", "no value"),
    "stall": ("keep connections open but send nothing (no replies, no media)", "no value"),
    "drop": ("close every client's connection N seconds after its PLAY", "seconds, e.g. drop=2"),
    "slow": ("delay every RTSP response", "seconds, e.g. slow=0.5"),
    "broken-sdp": ("answer DESCRIBE with a broken SDP", "malformed (default) or no-media"),
    "auth": ("demand credentials (401 until the client logs in)", "no value"),
}

FAULT_HELP = "\n".join(f"  {name:<11} {what} ({value})" for name, (what, value) in FAULTS.items())


class FaultError(ValueError):
    """A fault spec that names no fault or has a bad value; the message says the fix."""


@dataclass
class Faults:
    """The faults in force. A plain value: the server reads it on every decision."""

    refuse: bool = False
    reset: bool = False
    stall: bool = False
    drop: float | None = None  # seconds after PLAY
    slow: float = 0.0  # seconds before each response
    broken_sdp: str | None = None  # one of BROKEN_SDP_KINDS
    auth: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Only the faults in force, by their spec names."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if value not in (False, None, 0.0):
                out[key.replace("_", "-")] = value
        return out


def _seconds(name: str, value: str | None) -> float:
    if value is None:
        raise FaultError(f"fault {name!r} needs seconds: write {name}=SECONDS, e.g. {name}=0.5")
    try:
        seconds = float(value)
    except ValueError as exc:
        raise FaultError(f"fault {name}={value!r}: the value must be seconds, e.g. {name}=0.5") \
            from exc
    if not 0 <= seconds <= 3600:
        raise FaultError(f"fault {name}={value}: seconds must be between 0 and 3600")
    return seconds


def parse_fault(spec: str) -> tuple[str, Any]:
    """`slow=0.5` -> ("slow", 0.5); `stall` -> ("stall", True). Raises FaultError."""
    name, sep, raw = spec.strip().partition("=")
    name = name.strip().lower().replace("_", "-")
    value: str | None = raw.strip() if sep else None
    if name not in FAULTS:
        raise FaultError(f"unknown fault {name!r}: use one of {', '.join(FAULTS)}")
    if name in ("drop", "slow"):
        return name, _seconds(name, value)
    if name == "broken-sdp":
        kind = value or "malformed"
        if kind not in BROKEN_SDP_KINDS:
            raise FaultError(f"broken-sdp={kind!r}: use one of {', '.join(BROKEN_SDP_KINDS)}")
        return name, kind
    if value is not None:
        raise FaultError(f"fault {name!r} takes no value: write just {name}")
    return name, True


def apply(faults: Faults, name: str, value: Any) -> None:
    """Sets one parsed fault on `faults`."""
    setattr(faults, name.replace("-", "_"), value)


def clear(faults: Faults, name: str | None = None) -> None:
    """Clears one fault by name, or all of them."""
    if name is None:
        for key, value in asdict(Faults()).items():
            setattr(faults, key, value)
        return
    key = name.strip().lower().replace("-", "_")
    if key.replace("_", "-") not in FAULTS:
        raise FaultError(f"unknown fault {name!r}: use one of {', '.join(FAULTS)}")
    setattr(faults, key, getattr(Faults(), key))


def from_specs(specs: list[str] | tuple[str, ...]) -> Faults:
    faults = Faults()
    for spec in specs:
        apply(faults, *parse_fault(spec))
    return faults
