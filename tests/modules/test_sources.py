"""The other sources and paths: a file played in a loop, and a tone re-encoded to another audio
codec, carried over MPEG-TS on TCP."""

from __future__ import annotations

import subprocess

from mediagrid.reference.media import ffmpeg_path
from mediagrid.reference.modules.wiring import AUDIO, Flow
from tests import support
from tests.modules import checks


def test_a_file_plays_in_a_loop(start_module, tmp_path):
    clip = tmp_path / "clip.mp4"  # one second: a recording longer than that is a loop
    subprocess.run([ffmpeg_path(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=160x120:rate=25", "-t", "1", "-c:v", "libx264", "-g", "25",
                    str(clip)], check=True, timeout=60)
    sources, recorder = start_module("sources").client, start_module("recorder").client
    (tmp_path / "looped.mkv").write_bytes(b"precious: never overwritten")
    path = tmp_path / "looped.1.mkv"  # the next free name
    flow = Flow("f1")
    sink = recorder.create("file", {"path": str(tmp_path / "looped.mkv")})
    flow.connect("c1", sources.create("file", {"path": str(clip)}), sink)
    flow.start()
    checks.wait_frames(recorder, "f1", 75)  # three times the clip
    assert sink.metrics()["file"] == str(path)
    flow.stop()
    assert (tmp_path / "looped.mkv").read_bytes() == b"precious: never overwritten"
    video = checks.video_stream(path)
    assert (video["codec_name"], video["width"]) == ("h264", 160)  # sent as it is (copy)
    assert checks.decoded_frames(path) >= 75


def test_a_tone_transcoded_to_opus_over_tcp(start_module, tmp_path):
    sources, transcoder = start_module("sources").client, start_module("transcoder").client
    recorder = start_module("recorder").client
    tone = sources.create("tone", {"codec": "aac"}, media_type=AUDIO)
    converter = transcoder.create("audio-transcode", {"codec": "opus", "bitrate": "48k"},
                                  media_type=AUDIO)
    path = tmp_path / "tone.mkv"
    sink = recorder.create("file", {"path": str(path)}, media_type=AUDIO)
    flow = Flow("f1")
    endpoint = flow.connect("c1", tone, converter, transport="mpegts-tcp").endpoint
    assert endpoint.url.startswith("tcp://127.0.0.1:") and endpoint.transport == "mpegts-tcp"
    flow.connect("c2", converter, sink, transport="mpegts-tcp")
    flow.start()
    checks.wait_frames(recorder, "f1", 60)  # audio packets (PES), a few seconds of them
    checks.wait_frames(transcoder, "f1", 20)
    status = recorder.flow("f1")
    assert status.connections[0].metrics.bitrate_bps > 20_000  # TS bytes on the wire (P-24)
    flow.stop()
    info = support.ffprobe_json(path)
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert audio and audio[0]["codec_name"] == "opus"
    assert float(info["format"]["duration"]) > 1.0
