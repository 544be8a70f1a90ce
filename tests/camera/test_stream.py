"""ffprobe and ffmpeg read the fake camera: codecs, size and rate as configured; two at once."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest

from tests.camera import clients


@pytest.mark.parametrize(
    ("size", "fps", "audio", "audio_codec"),
    [("320x240", "25", "aac", "aac"), ("176x144", "15", "pcmu", "pcm_mulaw")],
)
def test_ffprobe_reports_the_configured_stream(fake_camera, size, fps, audio, audio_codec):
    camera = fake_camera(size=size, fps=fps, audio=audio)
    streams = clients.probe_streams(camera.url)
    video = [s for s in streams if s["codec_type"] == "video"]
    sound = [s for s in streams if s["codec_type"] == "audio"]
    assert len(video) == 1 and len(sound) == 1, streams
    width, height = (int(v) for v in size.split("x"))
    assert video[0]["codec_name"] == "h264"
    assert (video[0]["width"], video[0]["height"]) == (width, height)
    assert Fraction(video[0]["r_frame_rate"]) == Fraction(fps)
    assert sound[0]["codec_name"] == audio_codec


def test_every_path_is_its_own_camera(fake_camera):
    camera = fake_camera(paths=("front", "back"), audio="none")
    assert [u.rsplit("/", 1)[1] for u in camera.urls] == ["front", "back"]
    for url in camera.urls:
        assert [s["codec_name"] for s in clients.probe_streams(url)] == ["h264"]
    assert set(camera.status()["producers"]) == {"front", "back"}
    unknown = clients.probe(camera.url.rsplit("/", 1)[0] + "/nowhere")
    assert unknown.returncode != 0 and "404" in unknown.stderr


def test_two_clients_read_at_once(fake_camera, tmp_path):
    camera = fake_camera(gop=5)
    started = time.monotonic()
    first = clients.start_recording(camera.url, tmp_path / "a.mkv", seconds=2)
    second = clients.start_recording(camera.url, tmp_path / "b.mkv", seconds=2)
    recordings = [clients.finish(first, tmp_path / "a.mkv", started),
                  clients.finish(second, tmp_path / "b.mkv", started)]
    for recording in recordings:
        assert recording.returncode == 0, recording.stderr
        # 2 s at 25 fps: both received most of them (the first from a keyframe)
        assert recording.frames() >= 35, recording.stderr
    assert camera.status()["producers"]["camera"]["starts"] == 1  # one ffmpeg for both


def test_timecode_and_extra_filters_reach_the_encoder(fake_camera, tmp_path):
    # scale is visible in the stream; drawtext (the time code) in the encoder's command line
    camera = fake_camera(timecode=True, video_filters=["scale=160:120"], audio="none",
                         always_on=True)
    with open(f"/proc/{camera.status()['producers']['camera']['pid']}/cmdline", "rb") as f:
        assert b"drawtext" in f.read()
    recording = clients.record(camera.url, tmp_path / "tc.mkv", seconds=1)
    assert recording.returncode == 0, recording.stderr
    assert recording.frames() > 0
    video = clients.support.ffprobe_json(recording.path)["streams"][0]
    assert (video["width"], video["height"]) == (160, 120)  # the camera itself is 320x240
