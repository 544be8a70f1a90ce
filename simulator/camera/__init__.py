"""A fake RTSP camera that misbehaves on command (docs/camera.md).

`CameraServer` is the asyncio server, `CameraConfig`/`StreamConfig` configure it, the
`mediagrid camera` command (command.py) runs it, and fixtures.py offers it to pytest.
"""

from mediagrid.simulator.camera.auth import Credentials
from mediagrid.simulator.camera.faults import FaultError, Faults
from mediagrid.simulator.camera.media import StreamConfig
from mediagrid.simulator.camera.server import CameraConfig, CameraServer

__all__ = ["CameraConfig", "CameraServer", "Credentials", "FaultError", "Faults", "StreamConfig"]
