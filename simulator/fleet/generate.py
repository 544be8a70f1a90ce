"""Making a fleet: sites and vendors from faker, module kinds from a small catalogue of what
a video installation holds (camera gateways, transcoders, recorders, display walls,
conference bridges), each with entity types a real module of its kind would offer.

Everything random comes from one seeded faker instance and one seeded random.Random, used in
a fixed order, so the same (count, seed) always gives the same fleet.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

VIDEO_CODECS = ("h264", "hevc", "mpeg2video", "mpeg4")
AUDIO_CODECS = ("aac", "mp2", "opus", "ac3")
ID_LIMIT = 40  # room for a suffix within module ids' 63 characters


@dataclass(frozen=True)
class FleetModule:
    id: str
    name: str
    version: str
    description: str
    entity_types: tuple[dict[str, Any], ...]
    facts: dict[str, str] = field(default_factory=dict)
    """Where it runs and who made it, for people (site, vendor, address)."""


def slug(text: str, limit: int = ID_LIMIT) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    words = words[:limit].rstrip("-") or "x"
    return words if words[0].isalpha() else f"m-{words}"[:limit]


class _Maker:
    def __init__(self, seed: int) -> None:
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)

    def pick(self, options: tuple[str, ...], count: int) -> list[str]:
        chosen = self.rng.sample(options, k=min(count, len(options)))
        return sorted(chosen, key=options.index)

    def vendor(self) -> tuple[str, str]:
        company = self.fake.company()
        return company, slug(company.split(",")[0].split(" ")[0], 16)

    def config(self, secret: bool) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "location": {"type": "string", "maxLength": 200, "default": self.fake.street_name()},
            "label": {"type": "string", "maxLength": 64},
        }
        if secret:
            properties["username"] = {"type": "string", "default": self.fake.user_name()}
            properties["password"] = {"type": "string", "writeOnly": True}
        return {"type": "object", "additionalProperties": False, "properties": properties}

    def entity_type(self, name: str, kind: str, media: list[str], description: str, *,
                    vendor: str, secret: bool = False, outside: tuple[str, ...] = (),
                    output: bool = False) -> dict[str, Any]:
        codecs = []
        if "video" in media:
            codecs += self.pick(VIDEO_CODECS, self.rng.randint(1, 2))
        if "audio" in media:
            codecs += self.pick(AUDIO_CODECS, self.rng.randint(1, 2))
        item: dict[str, Any] = {
            "type": name, "kind": kind, "description": description, "media_types": media,
            "protocols": ["mpegts-udp", *outside], "codecs": codecs,
            "properties": {"vendor": vendor, "model": self.fake.bothify("??-####").upper(),
                           "firmware": self.fake.numerify("#.#.##")},
            "config": self.config(secret),
        }
        if "video" in media:
            item["properties"]["max_resolution"] = self.rng.choice(
                ("1280x720", "1920x1080", "3840x2160"))
        if output:
            item["output"] = {"codecs": self.pick(VIDEO_CODECS, 1)}
        return item


def _camera_gateway(m: _Maker, vendor: str, vendor_id: str) -> list[dict[str, Any]]:
    types = [m.entity_type(f"{vendor_id}-camera", "source", ["video"],
                           f"{vendor} network camera (RTSP in, MPEG-TS out)",
                           vendor=vendor, secret=True, outside=("rtsp",))]
    if m.rng.random() < 0.6:
        types.append(m.entity_type(f"{vendor_id}-microphone", "source", ["audio"],
                                   f"{vendor} camera microphone", vendor=vendor))
    return types


def _transcoder(m: _Maker, vendor: str, vendor_id: str) -> list[dict[str, Any]]:
    return [m.entity_type("transcode", "converter", ["video"], f"{vendor} video transcoder",
                          vendor=vendor, output=True)]


def _recorder(m: _Maker, vendor: str, vendor_id: str) -> list[dict[str, Any]]:
    return [m.entity_type("recorder", "sink", ["video", "audio"],
                          f"{vendor} network video recorder", vendor=vendor,
                          outside=("file",))]


def _display_wall(m: _Maker, vendor: str, vendor_id: str) -> list[dict[str, Any]]:
    return [m.entity_type("display", "sink", ["video"], f"{vendor} display wall",
                          vendor=vendor, outside=("hdmi",))]


def _bridge(m: _Maker, vendor: str, vendor_id: str) -> list[dict[str, Any]]:
    return [m.entity_type("sip-bridge", "protocol", ["video"], f"{vendor} SIP video bridge",
                          vendor=vendor, secret=True, outside=("sip",))]


KINDS: tuple[tuple[str, int, Callable[[_Maker, str, str], list[dict[str, Any]]]], ...] = (
    ("cams", 5, _camera_gateway), ("transcoder", 2, _transcoder), ("nvr", 2, _recorder),
    ("wall", 1, _display_wall), ("bridge", 1, _bridge),
)


def make_fleet(count: int, seed: int = 0) -> list[FleetModule]:
    """`count` modules; the same (count, seed) gives the same fleet."""
    if count < 1:
        raise ValueError("a fleet has at least one module")
    maker = _Maker(seed)
    weights = [w for _, w, _ in KINDS]
    fleet: list[FleetModule] = []
    used: set[str] = set()
    for n in range(count):
        kind, _, build = maker.rng.choices(KINDS, weights=weights)[0]
        site = maker.fake.city()
        vendor, vendor_id = maker.vendor()
        base = slug(f"{site}-{kind}")
        module_id = base if base not in used else f"{base}-{n + 1}"
        used.add(module_id)
        fleet.append(FleetModule(
            id=module_id, name=f"{site} {kind}", version=f"{maker.rng.randint(1, 4)}."
            f"{maker.rng.randint(0, 12)}.{maker.rng.randint(0, 30)}",
            description=f"{maker.fake.catch_phrase()} ({vendor}, simulated)",
            entity_types=tuple(build(maker, vendor, vendor_id)),
            facts={"site": site, "vendor": vendor, "address": maker.fake.address()
                   .replace("\n", ", ")},
        ))
    return fleet
