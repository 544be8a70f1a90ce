"""GStreamer's RTSP server as a helper for interop tests (serve.py runs under the system
Python; launcher.py starts and stops it)."""

from mediagrid.simulator.gstreamer.launcher import (
    GStreamerRtspServer,
    GStreamerUnavailable,
    unavailable_reason,
)

__all__ = ["GStreamerRtspServer", "GStreamerUnavailable", "unavailable_reason"]
