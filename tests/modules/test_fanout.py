"""One source feeds several targets at once (rule P-5): the same camera recorded and
displayed, the display joining while the recording runs."""

from __future__ import annotations

from mediagrid.reference.modules.wiring import Flow
from tests import support
from tests.modules import checks


def test_one_camera_recorded_and_displayed(fake_camera, start_module, tmp_path):
    camera = fake_camera(size="320x240", gop=10, video_filters=[checks.camera_stamp()])
    sources = start_module("sources")
    recorder = start_module("recorder").client
    display = start_module("display", SDL_VIDEODRIVER="dummy").client
    source = sources.client.create("rtsp", {"url": camera.url})
    path = tmp_path / "camera.mp4"
    record = Flow("record")
    record.connect("c1", source, recorder.create("file", {"path": str(path)}))
    record.start()
    checks.wait_frames(recorder, "record", 25)
    screen = display.create("display", {})
    show = Flow("show")  # joins the running source: it starts at the next keyframe
    show.connect("c2", source, screen)
    show.start()
    checks.wait_frames(display, "show", 50)
    assert support.wait_until(lambda: screen.metrics().get("frames_shown", 0) >= 50, 20)
    assert len(sources.children()) == 1  # one pull from the camera serves both targets
    assert checks.wait_frames(recorder, "record", 100).status.state == checks.ACTIVE
    latency = checks.wait_flow(display, "show", lambda f: f.status.latency_ms >= 0, 10,
                               "a measured latency").status.latency_ms
    assert 0 <= latency < 3000  # from the camera's stamp to the display
    show.stop()
    record.stop()
    video = checks.video_stream(path)
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 320, 240)
    assert checks.decoded_frames(path) >= 100
