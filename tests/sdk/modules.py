"""Small modules declared in code for the SDK's unit tests."""

from __future__ import annotations

import asyncio

from mediagrid import sdk

CAM_CONFIG = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "size": {"type": "string", "pattern": "^[0-9]+x[0-9]+$", "default": "320x240"},
        "mode": {"type": "string", "enum": ["fast", "slow"]},
        "password": {"type": "string", "writeOnly": True},
    },
}


def make_module(configurable: bool = False) -> sdk.Module:
    module = sdk.Module(
        "unit", version="1.2.3",
        config_schema={
            "type": "object",
            "properties": {"level": {"type": "string", "enum": ["low", "high"]},
                           "region": {"type": "string", "default": "eu"},
                           "secret": {"type": "string", "writeOnly": True}},
        } if configurable else None,
    )

    @module.entity(sdk.EntityType("cam", kind="source", media_types=["video"],
                                  protocols=["mpegts-udp"], codecs=["h264"], config=CAM_CONFIG))
    class Cam(sdk.Entity):
        started: int = 0

        async def configure(self, config: dict[str, str]) -> None:
            if config.get("size") == "1x1":
                raise sdk.InvalidArgument("config.size 1x1 is too small: use at least 2x2")

        async def start(self, link: sdk.Link) -> None:
            self.started += 1

        async def adjust_quality(self, link: sdk.Link, quality: object) -> None:
            pass  # accepted: the SDK merges the fields into link.quality

    @module.entity(sdk.EntityType("mic", kind="source", media_types=["audio"]))
    class Mic(sdk.Entity):
        pass

    @module.entity(sdk.EntityType("rec", kind="sink", media_types=["video"],
                                  protocols=["mpegts-udp"], codecs=["h264"]))
    class Rec(sdk.Entity):
        async def start(self, link: sdk.Link) -> None:
            link.spawn(asyncio.sleep(3600))  # cancelled by the SDK at StopFlow

    @module.entity(sdk.EntityType("both", kind="protocol", media_types=["audio", "video"]))
    class Both(sdk.Entity):
        pass

    @module.entity(sdk.EntityType("vp8rec", kind="sink", media_types=["video"], codecs=["vp8"]))
    class Vp8Rec(sdk.Entity):  # no transport between modules: LOCAL connections only (P-16)
        pass

    @module.entity(sdk.EntityType("av", kind="source", media_types=["video", "audio"],
                                  protocols=["mpegts-udp", "srt"], codecs=["h264", "aac"]))
    class Av(sdk.Entity):
        async def adjust_quality(self, link: sdk.Link, quality: object) -> None:
            pass

    @module.entity(sdk.EntityType("arec", kind="sink", media_types=["audio"],
                                  protocols=["mpegts-udp"], codecs=["aac", "opus"]))
    class ARec(sdk.Entity):
        pass

    return module


def make_edge_module() -> sdk.Module:
    """Entity types at the edges of the 1.1 rules, apart from make_module's so its type list
    (which tests assert) stays as it is."""
    module = sdk.Module("edge", version="0.0.1")

    @module.entity(sdk.EntityType("absent", kind="source", media_types=["video"]))
    class Absent(sdk.Entity):  # its device is missing: CreateEntity answers ERROR (N-13)
        async def create(self) -> None:
            self.fail("no camera at /dev/video9")

    @module.entity(sdk.EntityType("anysink", kind="sink", media_types=["video"],
                                  protocols=["mpegts-udp"]))
    class AnySink(sdk.Entity):  # takes any codec, but across modules only MPEG-TS's (P-15)
        pass

    @module.entity(sdk.EntityType("scale", kind="converter", media_types=["video", "audio"],
                                  codecs=["h264", "aac"], output_codecs=["hevc", "mp2"]))
    class Scale(sdk.Entity):
        pass

    return module
