"""The sources module: its module.yaml, and the class serving each entity type."""

from pathlib import Path

from mediagrid import sdk
from mediagrid.reference.modules.sources.files import FileSource
from mediagrid.reference.modules.sources.generated import TestPattern, Tone
from mediagrid.reference.modules.sources.rtsp import RtspSource

MANIFEST = Path(__file__).with_name("module.yaml")


def build() -> sdk.Module:
    module = sdk.Module.from_manifest(MANIFEST)
    module.entity("rtsp")(RtspSource)
    module.entity("testsrc")(TestPattern)
    module.entity("tone")(Tone)
    module.entity("file")(FileSource)
    return module
