"""Bad input is refused with INVALID_ARGUMENT or FAILED_PRECONDITION naming the field and the
fix; nothing is started and a flow already running is not disturbed (same ffmpeg, media
still moving)."""

from __future__ import annotations

import socket
import subprocess
from typing import Any

import grpc
import pytest

from mediagrid.reference.media import ffmpeg_path
from mediagrid.reference.modules.wiring import AUDIO, Flow, ModuleClient
from mediagrid.v1 import common_pb2, entity_pb2
from tests import support
from tests.modules import checks

INVALID, PRECONDITION = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION


def refused(call: Any, code: grpc.StatusCode, *words: str) -> str:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    assert caught.value.code() == code, caught.value.details()
    details = caught.value.details()
    for word in words:
        assert word in details, details
    return details


def running_flow(module: ModuleClient, recorder: ModuleClient, path: str) -> Flow:
    flow = Flow("running")
    source = module.create("testsrc", {"size": "320x240", "bitrate": "300k", "gop": "25"})
    flow.connect("c0", source, recorder.create("file", {"path": path}))
    flow.start()
    checks.wait_frames(recorder, "running", 25)
    return flow


def sink_of(flow: Flow) -> Any:
    return flow.connections[0].target


def still_moving(recorder: ModuleClient) -> None:
    frames = recorder.flow("running").metrics.frames
    checks.wait_frames(recorder, "running", frames + 10)


def test_sources_refuse_bad_input_and_keep_running(start_module, tmp_path):
    sources, recorder = start_module("sources"), start_module("recorder").client
    flow = running_flow(sources.client, recorder, str(tmp_path / "running.mp4"))
    before = sources.children()
    create = sources.client.create
    for config, words in [
        ({"url": "rtsp://"}, ["config.url", "rtsp://"]),
        ({"url": "http://camera/stream"}, ["config.url", "rtsp"]),
        ({"url": "rtsp://admin:pw@camera/stream"}, ["config.url"]),
        ({"url": "rtsp://camera:99999/stream"}, ["config.url", "1-65535"]),
        ({"url": "rtsp://camera/s", "password": "x"}, ["config.username"]),
    ]:
        details = refused(lambda c=config: create("rtsp", c), INVALID, *words)
        assert "pw" not in details  # a password never comes back in a message
    refused(lambda: create("testsrc", {"codec": "vp9"}), INVALID, "config.codec", "h264")
    refused(lambda: create("testsrc", {"size": "99999x99999"}), INVALID, "config.size",
            "impossible")
    refused(lambda: create("testsrc", {"size": "321x240"}), INVALID, "config.size", "322x240")
    refused(lambda: create("testsrc", {"size": "64x48"}), INVALID, "config.size", "timecode")
    refused(lambda: create("testsrc", {"gop": "51"}), INVALID, "config.gop", "50", "P-23")
    refused(lambda: create("file", {"path": str(tmp_path / "missing.mp4")}), PRECONDITION,
            "config.path")
    webm = tmp_path / "clip.webm"  # VP8: MPEG-TS cannot carry it as it is
    subprocess.run([ffmpeg_path(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=64x48:rate=5", "-t", "0.4", "-c:v", "libvpx", str(webm)],
                   check=True, timeout=60)
    refused(lambda: create("file", {"path": str(webm)}), INVALID, "config.codec", "vp8",
            "MPEG-TS")
    assert create("file", {"path": str(webm), "codec": "h264"}).id  # re-encoded: fine
    refused(lambda: create("file", {"path": str(webm), "codec": "aac"}), INVALID,
            "config.codec", "not a video codec", "h264")  # the schema allows it for audio
    refused(lambda: create("file", {"path": str(webm)}, media_type=AUDIO), PRECONDITION,
            "no audio stream")
    refused(lambda: flow.adjust("c0", common_pb2.QualityProfile(video_codec="vp8")),
            PRECONDITION, "vp8", "h264")  # rules P-15, P-20
    refused(lambda: flow.adjust("c0", common_pb2.QualityProfile(bitrate=10)), INVALID,
            "quality.bitrate")
    refused(lambda: flow.adjust("c0", common_pb2.QualityProfile(
        resolution=common_pb2.Resolution(width=99999, height=2))), INVALID,
        "quality.resolution")
    assert sources.children() == before  # the running encoder was not touched
    still_moving(recorder)
    flow.stop()


def test_sinks_and_transcoder_refuse_bad_input(start_module, tmp_path):
    sources = start_module("sources").client
    recorder = start_module("recorder")
    transcoder = start_module("transcoder").client
    display = start_module("display", SDL_VIDEODRIVER="dummy").client
    flow = running_flow(sources, recorder.client, str(tmp_path / "running.mp4"))
    before = recorder.children()
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    create = recorder.client.create
    refused(lambda: create("file", {"path": str(a_file / "x.mp4")}), PRECONDITION,
            "config.path", "not writable", "choose a folder")
    refused(lambda: create("file", {"path": "/proc/mediagrid/x.mp4"}), PRECONDITION,
            "config.path")
    refused(lambda: create("file", {"path": str(tmp_path)}), INVALID, "config.path", "folder")
    refused(lambda: create("file", {"path": str(tmp_path / "x.mkv"), "container": "mp4"}),
            INVALID, "config.container")
    assert create("file", {"path": str(tmp_path / "new" / "folder" / "x.mp4")}).id
    assert (tmp_path / "new" / "folder").is_dir()  # a missing folder is made, not refused
    refused(lambda: transcoder.create("transcode", {"codec": "vp8"}), INVALID, "config.codec")
    refused(lambda: transcoder.create("transcode", {"size": "10x10"}), INVALID, "config.size")
    refused(lambda: transcoder.create("transcode", {"bitrate": "1"}), INVALID,
            "config.bitrate")
    converter = transcoder.create("transcode", {})
    refused(lambda: Flow("x").connect("cx", converter, recorder.client.create(
        "file", {"path": str(tmp_path / "x.mp4")}),
        quality=common_pb2.QualityProfile(video_codec="vp8")), PRECONDITION, "vp8")
    second = sources.create("testsrc", {"size": "320x240"})  # a sink takes one input
    refused(lambda: Flow("y").connect("cy", second, sink_of(flow)), PRECONDITION,
            "already takes its input from connection 'c0'")
    refused(lambda: display.create("display", {"preview_port": "99999"}), INVALID,
            "config.preview_port")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        refused(lambda: display.create("display", {"preview_port": port}), PRECONDITION,
                "config.preview_port", "choose another port")
    assert recorder.children() == before
    still_moving(recorder.client)
    flow.stop()


def test_camera_credentials_never_show_and_a_fixed_password_reconnects(fake_camera,
                                                                         start_module, tmp_path):
    camera = fake_camera(user="viewer", password="right-pw-77", auth="digest")
    sources = start_module("sources")
    recorder = start_module("recorder").client
    source = sources.client.create("rtsp", {"url": camera.url, "username": "viewer",
                                            "password": "wrong-pw-42"})
    flow = Flow("f1")
    flow.connect("c1", source, recorder.create("file", {"path": str(tmp_path / "cam.mp4")}))
    flow.start()
    failed = checks.wait_flow(sources.client, "f1", lambda f: f.status.state == checks.ERROR,
                              30, "ERROR from the refused login")
    assert "401" in failed.status.error_message  # ffmpeg's words, quoted...
    assert "wrong-pw-42" not in failed.status.error_message  # ...without the password
    assert "***" in failed.status.error_message
    assert support.wait_until(lambda: "reconnecting to camera" in sources.client.status(
        source.id).error_message, 20)  # meanwhile it reconnects with the backoff, DEGRADED
    degraded = sources.client.status(source.id)
    assert degraded.health == common_pb2.HEALTH_STATUS_DEGRADED, degraded
    assert camera.url in degraded.error_message and "wrong-pw-42" not in degraded.error_message
    listed = sources.client.entities.ListEntities(
        entity_pb2.ListEntitiesRequest(),
        timeout=10).entities[0].source.config
    assert listed["password"] == "***"  # rule N-11
    sources.client.entities.ConfigureEntity(
        entity_pb2.ConfigureEntityRequest(
            entity_id=source.id, config={"password": "right-pw-77"}), timeout=10)
    checks.wait_frames(recorder, "f1", 25, timeout=45)  # the next reconnect logs in
    assert support.wait_until(lambda: sources.client.status(source.id).health
                              == common_pb2.HEALTH_STATUS_HEALTHY, 10)
    flow.stop()
    log = sources.log()
    assert "wrong-pw-42" not in log and "right-pw-77" not in log
