"""The rtsp source reads from GStreamer's RTSP server, a server nobody here wrote."""

from __future__ import annotations

import pytest

from mediagrid.reference.modules.wiring import Flow
from tests.modules import checks

pytestmark = pytest.mark.gstreamer


def test_rtsp_source_records_from_gstreamer(gstreamer_rtsp_server, start_module, tmp_path):
    sources, recorder = start_module("sources").client, start_module("recorder").client
    path = tmp_path / "gst.mp4"
    flow = Flow("f1")
    flow.connect("c1", sources.create("rtsp", {"url": gstreamer_rtsp_server.url}),
                 recorder.create("file", {"path": str(path)}))
    flow.start()
    checks.wait_frames(recorder, "f1", 50)
    flow.stop()
    video = checks.video_stream(path)
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 320, 240)
    assert checks.decoded_frames(path) >= 50
