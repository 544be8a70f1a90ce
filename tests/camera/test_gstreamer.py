"""Interop: ffmpeg records from GStreamer's RTSP server, an RTSP server nobody here wrote."""

from __future__ import annotations

import pytest

from tests import support
from tests.camera import clients

pytestmark = pytest.mark.gstreamer


def test_ffmpeg_records_from_gstreamer(gstreamer_rtsp_server, tmp_path):
    recording = clients.record(gstreamer_rtsp_server.url, tmp_path / "gst.mkv", seconds=2)
    assert recording.returncode == 0, recording.stderr
    info = support.ffprobe_json(recording.path)
    video = [s for s in info["streams"] if s["codec_type"] == "video"]
    assert video and video[0]["codec_name"] == "h264"
    assert (video[0]["width"], video[0]["height"]) == (320, 240)
    assert recording.frames() >= 25
