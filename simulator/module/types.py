"""The entity types a simulated module offers when its scenario names none, written as
module.yaml writes them (so a module.yaml that runs the simulator can declare the same)."""

from __future__ import annotations

from typing import Any

LOCATION = {"type": "string", "maxLength": 200, "description": "where it is, for people"}

DEFAULT_TYPES: tuple[dict[str, Any], ...] = (
    {"type": "camera", "kind": "source", "description": "A simulated camera (H.264 video).",
     "media_types": ["video"], "protocols": ["mpegts-udp"], "codecs": ["h264"],
     "properties": {"simulated": "true"},
     "config": {"type": "object", "additionalProperties": False,
                "properties": {"location": LOCATION,
                               "password": {"type": "string", "writeOnly": True}}}},
    {"type": "microphone", "kind": "source", "description": "A simulated microphone (AAC).",
     "media_types": ["audio"], "protocols": ["mpegts-udp"], "codecs": ["aac"],
     "config": {"type": "object", "additionalProperties": False,
                "properties": {"location": LOCATION}}},
    {"type": "encoder", "kind": "converter", "description": "A simulated video encoder.",
     "media_types": ["video"], "protocols": ["mpegts-udp"], "codecs": ["h264", "mpeg2video"],
     "output": {"codecs": ["h264"]}},
    {"type": "recorder", "kind": "sink", "description": "A simulated recorder.",
     "media_types": ["video", "audio"], "protocols": ["mpegts-udp"],
     "codecs": ["h264", "mpeg2video", "aac"],
     "config": {"type": "object", "additionalProperties": False,
                "properties": {"retention": {"type": "string", "pattern": "^[0-9]{1,4}d$",
                                             "default": "7d"}}}},
)

# The module-wide configuration a simulated module serves when its scenario gives none.
DEFAULT_CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "log_level": {"type": "string", "enum": ["debug", "info", "warning"], "default": "info"},
        "site": {"type": "string", "maxLength": 200},
    },
}
