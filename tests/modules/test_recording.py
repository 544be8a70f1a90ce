"""Recording a camera: fake camera -> rtsp source -> transcoder -> file sink, each module its own
process, real ffmpeg everywhere, the recording checked with ffprobe."""

from __future__ import annotations

import signal
import subprocess
import time

from mediagrid.reference.media import ffmpeg_path
from mediagrid.reference.media.timecode import delta_ms, now_code
from mediagrid.reference.modules.wiring import AUDIO, Flow
from mediagrid.sdk.media.entity import OUTPUT_ARGS
from mediagrid.v1 import pipeline_pb2
from tests import support
from tests.modules import checks

RUN = 5.0  # seconds of recording


def test_camera_recorded_through_the_transcoder(fake_camera, start_module, tmp_path):
    camera = fake_camera(size="320x240", gop=10)
    sources, transcoder, recorder = (start_module(n).client
                                     for n in ("sources", "transcoder", "recorder"))
    source = sources.create("rtsp", {"url": camera.url})
    converter = transcoder.create("transcode", {"codec": "mpeg2video", "size": "256x144",
                                                "bitrate": "300k", "gop": "25"})
    path = tmp_path / "camera.mp4"
    sink = recorder.create("file", {"path": str(path)})
    flow = Flow("f1")
    flow.connect("c1", source, converter)
    flow.connect("c2", converter, sink)
    flow.start()
    # The run is the time the source sends: the recording holds what it sent from its first
    # keyframe to the stop, however long the frames then took to reach the file.
    assert support.wait_until(lambda: source.metrics().get("bytes_sent", 0) > 0, 30, 0.02)
    first_media = time.monotonic()
    for module in (recorder, sources, transcoder):  # each measures media moving (rule P-11)
        checks.wait_frames(module, "f1", 1)
    while time.monotonic() - first_media < RUN:
        status = recorder.flow("f1").status
        assert status.state == checks.ACTIVE, status.error_message
        time.sleep(0.2)
    measured = recorder.flow("f1")
    # The source stops sending somewhere within its StopFlow call, which under load takes a
    # good part of a second: the run ends between the call and its answer.
    stopping = time.monotonic() - first_media
    sources.pipeline.StopFlow(pipeline_pb2.StopFlowRequest(flow_id="f1"), timeout=15)
    stopped = time.monotonic() - first_media
    flow.stop()  # the other modules (StopFlow is idempotent)
    video = checks.video_stream(path)
    assert video["codec_name"] == "mpeg2video"  # transcoded, not the camera's h264
    assert (video["width"], video["height"]) == (256, 144)
    assert 0.9 * stopping <= video["duration"] <= 1.1 * stopped, (video["duration"], stopped)
    # Measured in bit/s on the wire (P-24): about 350 kbit/s of MPEG-TS for 300k of video.
    # Half the configured rate still tells bits from bytes (a rate in bytes reads ~44 000).
    assert measured.metrics.fps > 20 and measured.status.bandwidth_usage > 150_000
    assert measured.metrics.bytes_written > 10_000
    assert not list(tmp_path.glob("camera.*.mp4"))  # one recording, never restarted


def test_camera_drop_mid_stream_and_the_recording_resumes(fake_camera, start_module, tmp_path):
    camera = fake_camera(size="320x240", gop=10, video_filters=[checks.camera_stamp()])
    sources, recorder = start_module("sources").client, start_module("recorder").client
    path = tmp_path / "drop.mkv"
    flow = Flow("f1")
    flow.connect("c1", sources.create("rtsp", {"url": camera.url}),
                 recorder.create("file", {"path": str(path)}))
    flow.start()
    checks.wait_frames(recorder, "f1", 25)
    dropped_at = now_code(time.time_ns() // 1_000_000)
    assert camera.drop() >= 1  # the source's RTSP connection is closed under it
    # The source reconnects after the backoff (the first restart is at once) and the same
    # recording carries on: frames keep arriving, at the recorder and at the source.
    resumed = checks.wait_flow(sources, "f1", lambda f: f.metrics.restarts >= 1
                               and f.status.state == checks.ACTIVE, 30, "restart and media")
    before = recorder.flow("f1").metrics.frames
    checks.wait_flow(recorder, "f1", lambda f: f.metrics.frames >= before + 25, 30,
                     "25 more frames")
    flow.stop()
    assert resumed.metrics.restarts >= 1
    video = checks.video_stream(path)
    codes = [c for c in checks.timecodes(path, video["width"], video["height"]) if c]
    after = [c for c in codes if delta_ms(c, dropped_at) > 200]
    assert len(codes) - len(after) >= 20 and len(after) >= 20, (len(codes), len(after))
    assert not list(tmp_path.glob("drop.*.mkv"))  # the same file, not a new one


def test_sigkill_of_the_file_sink_leaves_a_playable_file(start_module, tmp_path):
    sources, recorder = start_module("sources"), start_module("recorder")
    source = sources.client.create("testsrc", {"size": "320x240", "gop": "25",
                                               "bitrate": "300k"})
    flow = Flow("f1")
    paths = {kind: tmp_path / f"killed.{kind}" for kind in ("mp4", "mkv")}
    for n, path in enumerate(paths.values()):
        flow.connect(f"c{n}", source, recorder.client.create("file", {"path": str(path)}))
    flow.start()
    checks.wait_frames(recorder.client, "f1", 75)  # three fragments (keyframe each second)
    recorder.children()  # note its ffmpeg, which must die with it
    recorder.process.send_signal(signal.SIGKILL)
    assert support.wait_dead(recorder.process.pid, 10)
    for path in paths.values():
        assert checks.decoded_frames(path) >= 50, path
        assert checks.video_stream(path)["codec_name"] == "h264"


def test_a_recording_failing_at_every_run_backs_off_in_one_file_and_says_why(start_module,
                                                                             tmp_path):
    """A stream the container cannot take (SMPTE 302M audio, which MPEG-TS carries and MP4
    does not) makes every ffmpeg run of the recorder fail the same way. The flow turns ERROR
    with ffmpeg's reason, the runs are restarted with the project's one backoff (at once,
    then 0.5 s, 1 s, ...), and each run takes the same name again: the failed runs leave no
    trail of empty files (docs/reference-modules.md)."""
    recorder = start_module("recorder").client
    path = tmp_path / "pcm.mp4"
    sink = recorder.create("file", {"path": str(path)}, media_type=AUDIO)
    request = pipeline_pb2.ConnectEntitiesRequest(
        connection_id="c1", source_entity_id="elsewhere", target_entity_id=sink.id,
        media_type=AUDIO, role=pipeline_pb2.CONNECTION_ROLE_TARGET)
    endpoint = recorder.pipeline.ConnectEntities(request, timeout=15).connection.endpoint
    started = time.monotonic()
    recorder.pipeline.StartFlow(pipeline_pb2.StartFlowRequest(
        flow_id="f1", connection_ids=["c1"]), timeout=15)
    sender = subprocess.Popen(
        [ffmpeg_path(), "-loglevel", "error", "-re", "-f", "lavfi", "-i",
         "sine=sample_rate=48000", "-ac", "2", "-c:a", "s302m", "-strict", "-2",
         *OUTPUT_ARGS[:-1], endpoint.url], stdin=subprocess.DEVNULL)
    try:
        assert support.wait_until(lambda: sink.metrics().get("restarts", 0) >= 3, 30)
        # three restarts cannot come sooner than the backoff's delays: 0, 0.4, 0.8 s at least
        assert time.monotonic() - started >= 1.2
        flow = recorder.flow("f1")
    finally:
        sender.kill()
        sender.wait()
    assert flow.status.state == checks.ERROR
    assert "Could not find tag for codec s302m" in flow.status.error_message, flow.status
    assert "Task finished" not in flow.status.error_message  # ffmpeg's words, not its noise
    assert [p.name for p in tmp_path.iterdir()] in ([], ["pcm.mp4"])  # no pcm.1.mp4, ...
    recorder.pipeline.StopFlow(pipeline_pb2.StopFlowRequest(flow_id="f1"), timeout=15)
