"""The other sources and paths: a file played in a loop, and tones of every audio codec (one
re-encoded to another codec and carried over MPEG-TS on TCP) recorded to MP4 and MKV."""

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


def test_audio_of_every_codec_is_recorded_to_mp4_and_mkv(start_module, tmp_path):
    """Each audio codec the recorder declares (aac, opus, mp2) recorded to fragmented MP4 and
    to MKV: AAC from MPEG-TS (ADTS) goes into MP4 only through ffmpeg's aac_adtstoasc filter,
    and audio has no keyframes to cut fragments at. Opus is the tone transcoded, carried over
    MPEG-TS on TCP."""
    sources, transcoder = start_module("sources").client, start_module("transcoder").client
    recorder = start_module("recorder").client
    tone = sources.create("tone", {"codec": "aac"}, media_type=AUDIO)
    mp2 = sources.create("tone", {"codec": "mp2", "frequency": "880"}, media_type=AUDIO)
    converter = transcoder.create("audio-transcode", {"codec": "opus", "bitrate": "48k"},
                                  media_type=AUDIO)
    flow = Flow("f1")
    endpoint = flow.connect("c0", tone, converter, transport="mpegts-tcp").endpoint
    assert endpoint.url.startswith("tcp://127.0.0.1:") and endpoint.transport == "mpegts-tcp"
    paths = {}
    for codec, source in (("opus", converter), ("aac", tone), ("mp2", mp2)):
        for container in ("mkv", "mp4"):
            paths[f"c{len(paths) + 1}"] = path = tmp_path / f"{codec}.{container}"
            sink = recorder.create("file", {"path": str(path)}, media_type=AUDIO)
            flow.connect(f"c{len(paths)}", source, sink,
                         transport="mpegts-tcp" if codec == "opus" else "")
    flow.start()
    # 60 audio packets (PES) at every sink: well over a second of each
    checks.wait_flow(recorder, "f1", lambda f: len(f.connections) == len(paths) and all(
        c.metrics.frames >= 60 for c in f.connections), 30, "60 frames at each sink")
    checks.wait_frames(transcoder, "f1", 20)
    status = recorder.flow("f1")
    assert status.status.state == checks.ACTIVE, status.status.error_message
    opus_in = next(c for c in status.connections if c.id == "c1")
    # bit/s of the TS bytes on the wire (P-24): about 150 kbit/s for 48k of opus, a PES per
    # 20 ms packet in its own TS packets. At least the configured rate; bytes/s reads ~19 000.
    assert opus_in.metrics.bitrate_bps > 48_000
    flow.stop()
    for path in paths.values():
        info = support.ffprobe_json(path, "-count_frames")
        audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
        assert len(audio) == 1, (path, info)
        # MP4 has one object type for MPEG-1 audio of every layer: ffprobe names mp2 "mp3"
        codec = path.stem if (path.stem, path.suffix) != ("mp2", ".mp4") else "mp3"
        assert audio[0]["codec_name"] == codec, path
        assert int(audio[0]["nb_read_frames"]) > 40, path  # decoded, not just probed
        assert float(info["format"]["duration"]) > 1.0, path
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())
