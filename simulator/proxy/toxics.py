"""Toxics, in the manner of Shopify's toxiproxy: each has a name, a type, a stream (direction)
and a toxicity (the share of connections it affects), plus its type's attributes.

| type | attributes | what the affected connections see |
|---|---|---|
| latency | latency (ms), jitter (ms) | every chunk delayed by latency ± jitter |
| bandwidth | rate (KB/s) | at most that many kilobytes a second |
| timeout | timeout (ms) | no data gets through; closed after timeout (0: held until removed) |
| reset_peer | timeout (ms) | reset (TCP RST) after timeout |
| slow_close | delay (ms) | the close reaches the other side only after delay |
| limit_data | bytes | closed once that many bytes went through |
| down | - | the proxy stops listening and drops every connection (toxiproxy's enabled=false) |

`stream` is `upstream` (client to server) or `downstream` (server to client); toxiproxy's
default is downstream, and so is ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STREAMS = ("upstream", "downstream")
# type -> {attribute: default}
TYPES: dict[str, dict[str, float]] = {
    "latency": {"latency": 0, "jitter": 0},
    "bandwidth": {"rate": 0},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 0},
    "slow_close": {"delay": 0},
    "limit_data": {"bytes": 0},
    "down": {},
}


class ToxicError(ValueError):
    """A toxic that cannot be: the message names the field and the fix."""


@dataclass(frozen=True)
class Toxic:
    type: str
    name: str = ""
    stream: str = "downstream"
    toxicity: float = 1.0
    attributes: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ToxicError(f"toxic type {self.type!r} is not known: use one of"
                             f" {', '.join(TYPES)}")
        if self.stream not in STREAMS:
            raise ToxicError(f"stream {self.stream!r}: use upstream or downstream")
        if not 0 <= self.toxicity <= 1:
            raise ToxicError(f"toxicity {self.toxicity}: use a probability from 0 to 1")
        known = TYPES[self.type]
        for key, value in self.attributes.items():
            if key not in known:
                raise ToxicError(f"a {self.type} toxic has no attribute {key!r}: its"
                                 f" attributes are {', '.join(known) or 'none'}")
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ToxicError(f"{self.type}.{key} = {value!r}: use a number >= 0")
        if self.type == "bandwidth" and self.attributes.get("rate", 0) <= 0:
            raise ToxicError("a bandwidth toxic needs rate (KB/s) above 0")
        if not self.name:
            object.__setattr__(self, "name", f"{self.type}_{self.stream}")

    def attribute(self, key: str) -> float:
        return float(self.attributes.get(key, TYPES[self.type][key]))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "stream": self.stream,
                "toxicity": self.toxicity, "attributes": dict(self.attributes)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Toxic:
        """From toxiproxy's JSON ({name, type, stream, toxicity, attributes}); ToxicError."""
        unknown = set(data) - {"name", "type", "stream", "toxicity", "attributes"}
        if unknown:
            raise ToxicError(f"unknown toxic field {sorted(unknown)[0]!r}: give name, type,"
                             " stream, toxicity and attributes")
        if "type" not in data:
            raise ToxicError(f"a toxic needs a type: one of {', '.join(TYPES)}")
        attributes = data.get("attributes") or {}
        if not isinstance(attributes, Mapping):
            raise ToxicError("attributes must be a mapping, like {latency: 200, jitter: 50}")
        toxicity = data.get("toxicity", 1.0)
        if isinstance(toxicity, bool) or not isinstance(toxicity, int | float):
            raise ToxicError(f"toxicity {toxicity!r}: use a probability from 0 to 1")
        return cls(type=str(data["type"]), name=str(data.get("name", "")),
                   stream=str(data.get("stream", "downstream")), toxicity=float(toxicity),
                   attributes=dict(attributes))


def parse_spec(text: str) -> Toxic:
    """The command line's spelling: `latency:latency=200,jitter=50,stream=upstream`."""
    kind, _, rest = text.partition(":")
    fields: dict[str, Any] = {"type": kind.strip()}
    attributes: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ToxicError(f"{part!r} in {text!r}: write key=value")
        if key in ("name", "stream"):
            fields[key] = value
            continue
        try:
            number = float(value)
        except ValueError:
            raise ToxicError(f"{key}={value!r} in {text!r}: the value must be a number") from None
        if key == "toxicity":
            fields["toxicity"] = number
        else:
            attributes[key] = number
    fields["attributes"] = attributes
    return Toxic.from_dict(fields)
